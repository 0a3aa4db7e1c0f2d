"""The models aging uses, loaded together from one model folder (facegan.io.model_folder) and checked to belong
together: `facegan age`, `fit-strengths`, the page and bench/aging.py carry them as one AgingModels."""
from dataclasses import dataclass

import keras
import numpy as np

from facegan.aging.defaults import PHOTO_STRENGTH


@dataclass
class AgingModels:
    generator: keras.Model      # G(z, age)
    discriminator: keras.Model  # D(x, age): projection's perceptual loss
    encoder: keras.Model        # the latent encoder: projection's first z
    gender: object = None       # the run's GenderReader (facegan.aging.gender); None: G's drift in gender stays
    strengths: np.ndarray = None  # the run's strength table (facegan.aging.strengths); None: one strength for all
    photo_strength: float = PHOTO_STRENGTH  # the pair's calibrated strength for the photo's way, saved with its table

    @classmethod
    def load(cls, folder):
        """From a ModelFolder: G and D age-conditional and of one size, the encoder required, the gender reader
        and strength table (with its calibrated strength) where there are files, each checked to be fit to that
        encoder or G."""
        from facegan.aging import gender, strengths

        generator = folder.load_generator(conditional=True)
        discriminator = folder.load_discriminator(generator)
        encoder = folder.load_encoder(required=True)
        table, photo_strength = strengths.load_table(folder.strength_table, generator)
        return cls(generator, discriminator, encoder, gender.load_reader(folder.gender_reader, encoder), table,
                   photo_strength)
