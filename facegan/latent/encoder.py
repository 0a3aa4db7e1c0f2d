"""The latent encoder E: a face's z in one forward pass, the first guess that projection then refines (Age-cGAN's
latent approximation). E is trained on fresh pairs (G(z), z) drawn from the generator it serves, plain or
age-conditional (then (G(z, c), z), c drawn over the age groups), and lives beside that generator's run as
`latent_encoder.h5` (a plain Keras model).
"""
import os

import keras
import numpy as np

from facegan import FaceganError
from facegan.gan.models import build_encoder, is_conditional
from facegan.gan.prior import draw
from facegan.gan.prior import noise_dim, random_age_conditions, sample_noise
from facegan.io.checkpoints import CHECKPOINT
from facegan.io.weights import load_model_h5

ENCODER_FILE = "latent_encoder.h5"
STEPS = 3000
BATCH = 64
FILTERS = 32  # the trunk's first layer; 32 makes a 6 MB file, 64 a 21 MB one


def train_latent_encoder(generator, filters=FILTERS, steps=STEPS, batch_size=BATCH, seed=0, learning_rate=2e-4,
                         progress=None):
    """E(G(z)) ~ z, by mean squared error on fresh (G(z), z) pairs each step, so E never sees a face twice; for
    a conditional G the age group is drawn uniformly over the groups, so that every age is covered. Returns E
    and the loss of each step."""
    dim, image_size = noise_dim(generator), generator.output_shape[1]
    keras.utils.set_random_seed(seed)
    encoder = build_encoder(image_size, filters, outputs=dim, name="latent_encoder")
    encoder.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5), loss="mean_squared_error")
    rng = np.random.default_rng(seed)
    conditional = is_conditional(generator)
    losses = []
    for step in range(steps):
        codes = sample_noise(rng, batch_size, dim)
        images = draw(generator, codes, random_age_conditions(rng, batch_size) if conditional else None)
        losses.append(float(encoder.train_on_batch(images, codes)))
        if progress:
            progress(step + 1, steps)
    return encoder, losses


def encoder_path(generator_path):
    """Where the encoder of a generator lives: in its run folder (above the run's checkpoint/), else beside it."""
    folder = os.path.dirname(os.path.abspath(generator_path))
    if os.path.basename(folder) in (CHECKPOINT, CHECKPOINT + ".old"):
        folder = os.path.dirname(folder)
    return os.path.join(folder, ENCODER_FILE)


def load_latent_encoder(generator_path, required=True):
    """The encoder of the generator at `generator_path`; without one, None, or with `required` a FaceganError
    that says how to train it."""
    path = encoder_path(generator_path)
    if os.path.isfile(path):
        return load_model_h5(path, "encoder")
    if required:
        raise FaceganError(f"{path}: missing; train it once with "
                           f"`facegan train-encoder --checkpoint {os.path.dirname(path)}`")
    return None
