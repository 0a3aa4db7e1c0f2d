"""The VAE that face math is compared with: it learns, its KL term is a real KL, and train.py runs it."""
import csv
import os

import keras
import numpy as np
import pytest

from facegan.gan.config import DEFAULTS

from facegan.gan import training
from facegan.gan.models import build_encoder, build_generator
from facegan.gan.vae import VAE, reconstruction_loss
from facegan.io import checkpoints, model_folder

from tests.conftest import TINY


@pytest.fixture
def vae():
    keras.utils.set_random_seed(2)
    return VAE(build_generator(**TINY), build_encoder(**TINY), learning_rate=2e-3, seed=0)


def test_training_lowers_the_loss_on_a_batch(vae):
    colours = np.random.default_rng(0).uniform(-0.8, 0.8, (8, 1, 1, 3)).astype(np.float32)
    batch = np.broadcast_to(colours, (8, 32, 32, 3)).copy()  # plain colours: learnable in a few steps
    first = vae.train_step(batch, None)
    for _ in range(30):
        last = vae.train_step(batch, None)
    assert last["loss"] < 0.7 * first["loss"]
    assert last["kl"] >= 0 and last["loss"] == pytest.approx(last["reconstruction"] + last["kl"], rel=1e-5)


def test_encoding_gives_the_mean_code_deterministically(vae):
    faces = np.random.default_rng(1).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    codes = vae.encode(faces)
    statistics = vae.encoder.predict(faces, verbose=0)
    assert codes.shape == (3, 100) and np.array_equal(codes, statistics[:, :100])
    assert np.array_equal(codes, vae.encode(faces))


def test_reconstruction_loss_is_per_face_squared_error_over_the_decoder_variance():
    images, decoded = np.zeros((2, 4, 4, 3), np.float32), np.full((2, 4, 4, 3), 0.1, np.float32)
    assert np.allclose(keras.ops.convert_to_numpy(reconstruction_loss(images, decoded)), 48 * 0.01 / (2 * 0.01))


def test_train_py_trains_a_vae_run_that_generate_samples_from_a_normal_prior(face_folder, tmp_path):
    run = str(tmp_path / "vae")
    settings = {**DEFAULTS, **TINY, "data": face_folder, "batch_size": 8, "epochs": 1, "model": "vae"}
    training.train(settings, run)
    with open(os.path.join(run, "history.csv")) as f:
        assert list(csv.DictReader(f))[0].keys() >= {"loss", "reconstruction", "kl"}
    assert sorted(os.listdir(model_folder.checkpoint_dir(run))) == ["encoder.h5", "generator.h5", "optimizers.npz",
                                                                    "state.json"]
    assert model_folder.ModelFolder(run).is_vae
    training.train({**settings, "epochs": 2}, run, resume=True)
    assert checkpoints.load_checkpoint(run, ("generator", "encoder"))[2]["epoch"] == 2
