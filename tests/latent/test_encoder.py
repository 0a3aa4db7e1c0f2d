"""The latent encoder: it learns z from the faces of a plain or an age-conditional generator, and the shipped ones
serve the generators beside them."""
import keras
import numpy as np
import pytest

from facegan.gan.models import is_conditional
from facegan.gan.prior import age_conditions, draw
from facegan.io import model_folder
from facegan.latent import encoder


def toy_generator(conditional):
    """A G whose faces carry z plainly (one dense layer), so that a few steps teach E something."""
    keras.utils.set_random_seed(0)
    noise = keras.Input((100,))
    inputs = [noise, keras.Input((7,))] if conditional else [noise]
    merged = keras.layers.Concatenate()(inputs) if conditional else noise
    pixels = keras.layers.Dense(32 * 32 * 3, activation="tanh")(merged)
    return keras.Model(inputs, keras.layers.Reshape((32, 32, 3))(pixels))


@pytest.mark.slow
@pytest.mark.parametrize("conditional", [False, True])
def test_the_latent_encoder_learns_z_from_generated_faces(conditional):
    generator = toy_generator(conditional)
    latent_encoder, losses = encoder.train_latent_encoder(generator, filters=8, steps=150, batch_size=32,
                                                          learning_rate=2e-3)
    assert np.mean(losses[-20:]) < np.mean(losses[:20]), "training lowers the loss"
    codes = np.random.default_rng(7).uniform(-1, 1, (64, 100)).astype(np.float32)
    faces = draw(generator, codes, age_conditions(np.full(64, 30)) if conditional else None)
    guesses = latent_encoder.predict(faces, verbose=0)
    assert guesses.shape == codes.shape
    assert np.mean((guesses - codes) ** 2) < 0.8 * np.mean(codes ** 2), "better than guessing 0 for unseen faces"


@pytest.mark.parametrize("folder", [model_folder.SHIPPED_DIR, model_folder.SHIPPED_AGING_DIR])
def test_each_shipped_encoder_serves_the_generator_beside_it(folder):
    """An encoder is only good for the G it was trained on: the shipped ones must guess their own G's z."""
    folder = model_folder.ModelFolder(folder)
    generator, latent_encoder = folder.load_generator(), folder.load_encoder(required=True)
    codes = np.random.default_rng(3).uniform(-1, 1, (256, 100)).astype(np.float32)
    conditions = age_conditions(np.random.default_rng(4).integers(1, 80, 256)) if is_conditional(generator) else None
    guesses = latent_encoder.predict(draw(generator, codes, conditions), verbose=0)
    assert np.mean((guesses - codes) ** 2) < 0.25, "guessing 0 scores 0.333"
