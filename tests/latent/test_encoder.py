"""The latent encoder: it learns z from the faces of a plain or an age-conditional generator, and lives in the run
folder of the generator it serves."""
import os

import keras
import numpy as np
import pytest

from facegan import FaceganError
from facegan.gan.models import is_conditional
from facegan.gan.prior import draw
from facegan.gan.prior import age_conditions
from facegan.io import checkpoints
from facegan.io.checkpoints import load_model_h5
from facegan.latent import encoder


def toy_generator(conditional):
    """A G whose faces carry z plainly (one dense layer), so that a few steps teach E something."""
    keras.utils.set_random_seed(0)
    noise = keras.Input((100,))
    inputs = [noise, keras.Input((7,))] if conditional else [noise]
    merged = keras.layers.Concatenate()(inputs) if conditional else noise
    pixels = keras.layers.Dense(32 * 32 * 3, activation="tanh")(merged)
    return keras.Model(inputs, keras.layers.Reshape((32, 32, 3))(pixels))


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


def test_the_encoder_lives_in_the_run_folder_or_beside_a_bare_generator(tmp_path):
    run = tmp_path / "run"
    assert encoder.encoder_path(str(run / "checkpoint" / "generator_ema.h5")) == str(run / encoder.ENCODER_FILE)
    assert encoder.encoder_path(str(run / "checkpoint.old" / "generator.h5")) == str(run / encoder.ENCODER_FILE)
    flat = tmp_path / "shipped"
    assert encoder.encoder_path(str(flat / "generator.h5")) == str(flat / encoder.ENCODER_FILE)


def test_a_missing_encoder_is_none_unless_required(tmp_path):
    generator_path = str(tmp_path / "generator.h5")
    assert encoder.load_latent_encoder(generator_path, required=False) is None
    with pytest.raises(FaceganError, match=f"{encoder.ENCODER_FILE}: missing; train it once with `facegan "
                                           f"train-encoder --checkpoint {tmp_path}`"):
        encoder.load_latent_encoder(generator_path)
    assert not os.path.exists(tmp_path / encoder.ENCODER_FILE)


@pytest.mark.parametrize("folder", [checkpoints.SHIPPED_DIR, checkpoints.SHIPPED_AGING_DIR])
def test_each_shipped_encoder_serves_the_generator_beside_it(folder):
    """An encoder is only good for the G it was trained on: the shipped ones must guess their own G's z."""
    generator_path = checkpoints.find_generator(folder)
    generator, latent_encoder = load_model_h5(generator_path), encoder.load_latent_encoder(generator_path)
    codes = np.random.default_rng(3).uniform(-1, 1, (256, 100)).astype(np.float32)
    conditions = age_conditions(np.random.default_rng(4).integers(1, 80, 256)) if is_conditional(generator) else None
    guesses = latent_encoder.predict(draw(generator, codes, conditions), verbose=0)
    assert np.mean((guesses - codes) ** 2) < 0.25, "guessing 0 scores 0.333"
