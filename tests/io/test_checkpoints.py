import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from facegan import FaceganError
from facegan.io import checkpoints, model_folder
from facegan.gan.models import (build_conditional_discriminator, build_conditional_generator, build_discriminator,
                                build_generator)
from facegan.gan.prior import age_conditions
from facegan.gan.recipe import DCGAN

from tests.conftest import TINY


@pytest.fixture
def gan():
    keras.utils.set_random_seed(2)
    gan = DCGAN(build_generator(**TINY), build_discriminator(**TINY))
    gan.train_step(np.zeros((4, 32, 32, 3), np.float32), np.random.default_rng(0))
    return gan


def weights(model):
    return [w.numpy() for w in model.weights]


def test_a_checkpoint_restores_models_optimizers_and_state(gan, tmp_path):
    checkpoints.save_checkpoint(str(tmp_path), gan, {"epoch": 3, "step": 1, "rng": None})
    generator, discriminator, state = checkpoints.load_checkpoint(str(tmp_path))
    assert state == {"epoch": 3, "step": 1, "rng": None}
    for original, loaded in ((gan.generator, generator), (gan.discriminator, discriminator)):
        assert all(np.array_equal(a, b) for a, b in zip(weights(original), weights(loaded)))
    restored = DCGAN(generator, discriminator)
    checkpoints.restore_optimizers(str(tmp_path), restored)
    for original, loaded in ((gan.discriminator.optimizer, restored.discriminator.optimizer),
                             (gan.d_on_g.optimizer, restored.d_on_g.optimizer)):
        assert int(loaded.iterations.numpy()) == int(original.iterations.numpy()) == 1
        assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(original.variables, loaded.variables))


def test_restored_optimizers_keep_the_learning_rate_they_were_compiled_with(gan, tmp_path):
    checkpoints.save_checkpoint(str(tmp_path), gan, {"epoch": 1, "step": 1, "rng": None})
    generator, discriminator, _state = checkpoints.load_checkpoint(str(tmp_path))
    restored = DCGAN(generator, discriminator, learning_rate=5e-5)
    checkpoints.restore_optimizers(str(tmp_path), restored)
    for optimizer in (restored.discriminator.optimizer, restored.d_on_g.optimizer):
        assert int(optimizer.iterations.numpy()) == 1
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(5e-5)


def test_a_crash_while_writing_leaves_the_previous_checkpoint(gan, tmp_path, monkeypatch):
    run = str(tmp_path)
    checkpoints.save_checkpoint(run, gan, {"epoch": 1, "step": 0, "rng": None})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints, "save_model_h5", crash)
    with pytest.raises(OSError):
        checkpoints.save_checkpoint(run, gan, {"epoch": 2, "step": 0, "rng": None})
    assert checkpoints.load_checkpoint(run)[2]["epoch"] == 1


def test_a_crash_between_the_two_renames_leaves_the_previous_checkpoint(gan, tmp_path, monkeypatch):
    run = str(tmp_path)
    checkpoints.save_checkpoint(run, gan, {"epoch": 1, "step": 0, "rng": None})
    real_rename = os.rename

    def rename_then_crash(source, target):
        real_rename(source, target)
        if target.endswith(".old"):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", rename_then_crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save_checkpoint(run, gan, {"epoch": 2, "step": 0, "rng": None})
    monkeypatch.undo()
    assert not os.path.exists(os.path.join(run, "checkpoint"))
    assert checkpoints.load_checkpoint(run)[2]["epoch"] == 1
    checkpoints.save_checkpoint(run, gan, {"epoch": 2, "step": 0, "rng": None})  # and the next save recovers
    assert checkpoints.load_checkpoint(run)[2]["epoch"] == 2
    assert sorted(os.listdir(run)) == ["checkpoint"]


H5_CONTRACT = """
import sys
sys.modules["facegan"] = None  # importing facegan would now fail
import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
images = model.predict(np.random.uniform(-1, 1, (6, 100)), verbose=0)
print(images.shape, float(images.min()), float(images.max()))
"""


def test_generator_h5_loads_in_plain_keras_without_facegan(gan, tmp_path):
    checkpoints.save_checkpoint(str(tmp_path), gan, {"epoch": 1, "step": 0, "rng": None})
    result = subprocess.run([sys.executable, "-c", H5_CONTRACT, str(tmp_path / "checkpoint" / "generator.h5")],
                            capture_output=True, text=True, cwd=str(tmp_path),
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    shape, low, high = result.stdout.strip().rsplit(" ", 2)
    assert shape == "(6, 32, 32, 3)" and -1 <= float(low) < float(high) <= 1


CONDITIONAL_H5_CONTRACT = """
import sys
sys.modules["facegan"] = None
import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
noise, age_group = model.inputs
sixty = np.zeros((6, 7)); sixty[:, 5] = 1  # one-hot age group 55-65
images = model.predict([np.random.uniform(-1, 1, (6, 100)), sixty], verbose=0)
print(noise.name, age_group.name, images.shape, float(images.min()), float(images.max()))
"""


def test_conditional_generator_h5_loads_in_plain_keras_with_its_two_inputs(tmp_path):
    from facegan.gan.models import build_conditional_discriminator, build_conditional_generator
    from facegan.gan.recipe import DCGAN

    gan = DCGAN(build_conditional_generator(**TINY), build_conditional_discriminator(**TINY))
    checkpoints.save_checkpoint(str(tmp_path), gan, {"epoch": 1, "step": 0, "rng": None})
    result = subprocess.run([sys.executable, "-c", CONDITIONAL_H5_CONTRACT,
                             str(tmp_path / "checkpoint" / "generator.h5")], capture_output=True, text=True,
                            cwd=str(tmp_path), env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    noise, age_group, *shape, low, high = result.stdout.strip().split(" ")
    assert (noise, age_group, " ".join(shape)) == ("noise", "age_group", "(6, 32, 32, 3)")
    assert -1 <= float(low) < float(high) <= 1


def test_the_shipped_generator_keeps_the_h5_contract(tmp_path):
    """The interim model in checkpoints/dcgan-utkface-64 loads in plain Keras and draws 64x64 faces."""
    shipped = os.path.join(model_folder.SHIPPED_DIR, "generator.h5")
    assert os.path.isfile(os.path.join(model_folder.SHIPPED_DIR, "discriminator.h5"))
    result = subprocess.run([sys.executable, "-c", H5_CONTRACT, shipped], capture_output=True, text=True,
                            cwd=str(tmp_path), env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    shape, low, high = result.stdout.strip().rsplit(" ", 2)
    assert shape == "(6, 64, 64, 3)" and -1 <= float(low) < float(high) <= 1


def test_start_from_puts_a_plain_pair_into_the_conditional_one_with_the_age_at_zero_weight(gan, tmp_path):
    checkpoints.save_checkpoint(str(tmp_path), gan, {"epoch": 1, "step": 0, "rng": None})
    saved = model_folder.checkpoint_dir(str(tmp_path))
    generator, discriminator = build_conditional_generator(**TINY), build_conditional_discriminator(**TINY)
    checkpoints.start_from(generator, os.path.join(saved, "generator.h5"))
    checkpoints.start_from(discriminator, os.path.join(saved, "discriminator.h5"))
    noise = np.random.default_rng(0).uniform(-1, 1, (3, 100)).astype(np.float32)
    images = gan.generator.predict_on_batch(noise)
    for age in (5, 60):  # the fresh age inputs start with no say: every age draws the plain generator's face
        conditions = age_conditions(np.full(3, age))
        np.testing.assert_allclose(generator.predict_on_batch([noise, conditions]), images, atol=1e-5)
        np.testing.assert_allclose(discriminator.predict_on_batch([images, conditions]),
                                   gan.discriminator.predict_on_batch(images), atol=1e-5)
    with pytest.raises(FaceganError, match="not the same architecture"):
        checkpoints.start_from(build_generator(32, 8), os.path.join(saved, "generator.h5"))
