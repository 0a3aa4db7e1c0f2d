import json
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


@pytest.fixture(scope="module")
def gan():
    """A tiny DCGAN after one step (its optimizers hold state), shared: the tests only save and read it."""
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
import json, sys
sys.modules["facegan"] = None  # importing facegan would now fail
import keras, numpy as np
sixty = np.zeros((6, 7)); sixty[:, 5] = 1  # one-hot age group 55-65, for a generator that takes an age group
for path in sys.argv[1:]:
    model = keras.models.load_model(path)
    noise = np.random.uniform(-1, 1, (6, 100))
    images = model.predict(noise if len(model.inputs) == 1 else [noise, sixty], verbose=0)
    print(json.dumps({"inputs": [tensor.name for tensor in model.inputs], "shape": list(images.shape),
                      "low": float(images.min()), "high": float(images.max())}))
"""


@pytest.fixture(scope="module")
def read_by_plain_keras(gan, tmp_path_factory):
    """What a bare Keras (facegan unimportable) reads from a plain checkpoint's generator.h5, a conditional one's,
    and the shipped one: {"plain"|"conditional"|"shipped": its inputs' names, the drawn images' shape and range}.
    One fresh Python reads all three, so that TensorFlow starts once."""
    plain, conditional = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("conditional")
    checkpoints.save_checkpoint(str(plain), gan, {"epoch": 1, "step": 0, "rng": None})
    checkpoints.save_checkpoint(str(conditional), DCGAN(build_conditional_generator(**TINY),
                                                        build_conditional_discriminator(**TINY)),
                                {"epoch": 1, "step": 0, "rng": None})
    paths = {"plain": str(plain / "checkpoint" / "generator.h5"),
             "conditional": str(conditional / "checkpoint" / "generator.h5"),
             "shipped": os.path.join(model_folder.SHIPPED_DIR, "generator.h5")}
    result = subprocess.run([sys.executable, "-c", H5_CONTRACT, *paths.values()], capture_output=True, text=True,
                            cwd=str(plain), env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    return dict(zip(paths, map(json.loads, result.stdout.strip().splitlines())))


def test_generator_h5_loads_in_plain_keras_without_facegan(read_by_plain_keras):
    read = read_by_plain_keras["plain"]
    assert read["shape"] == [6, 32, 32, 3] and -1 <= read["low"] < read["high"] <= 1


def test_conditional_generator_h5_loads_in_plain_keras_with_its_two_inputs(read_by_plain_keras):
    read = read_by_plain_keras["conditional"]
    assert read["inputs"] == ["noise", "age_group"] and read["shape"] == [6, 32, 32, 3]
    assert -1 <= read["low"] < read["high"] <= 1


def test_the_shipped_generator_keeps_the_h5_contract(read_by_plain_keras):
    """The model in checkpoints/dcgan-utkface-64 loads in plain Keras and draws 64x64 faces."""
    assert os.path.isfile(os.path.join(model_folder.SHIPPED_DIR, "discriminator.h5"))
    read = read_by_plain_keras["shipped"]
    assert read["shape"] == [6, 64, 64, 3] and -1 <= read["low"] < read["high"] <= 1


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
