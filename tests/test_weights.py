"""Model files: every bad one is a one-line error naming it; generators load in tf-keras, and tf-keras' here."""
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from facegan import FaceganError, checkpoints, weights
from facegan.cli import main
from facegan.models import (build_conditional_discriminator, build_conditional_generator, build_discriminator,
                            build_generator)

from conftest import REPO, TINY

ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny plain pair and a conditional generator, saved as facegan saves them."""
    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(3)
    saved = {"generator": build_generator(**TINY), "discriminator": build_discriminator(**TINY),
             "conditional": build_conditional_generator(**TINY),
             "conditional_discriminator": build_conditional_discriminator(**TINY)}
    for name, model in saved.items():
        weights.save_model_h5(model, str(folder / f"{name}.h5"))
    return folder


@keras.saving.register_keras_serializable(package="elsewhere")
class Doubling(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2


def _bad_files(folder, models):
    """{case: path} of every kind of bad file, written into `folder`."""
    os.makedirs(folder / "empty")
    (folder / "random.h5").write_bytes(np.random.default_rng(0).bytes(4096))
    with open(models / "generator.h5", "rb") as f:
        (folder / "truncated.h5").write_bytes(f.read()[:20000])
    weights.save_model_h5(build_generator(32, 4, noise_dim=50), str(folder / "noise50.h5"))
    weights.save_model_h5(build_generator(64, 2), str(folder / "size64.h5"))
    for name, layer in (("lambda", keras.layers.Lambda(lambda x: x * 2)), ("custom", Doubling())):
        model = keras.Sequential([keras.Input((100,)), layer, keras.layers.Dense(3 * 32 * 32),
                                  keras.layers.Reshape((32, 32, 3))])
        weights.save_model_h5(model, str(folder / f"{name}.h5"))
    return {"random bytes": str(folder / "random.h5"), "a text file": os.path.join(REPO, "README.md"),
            "a truncated .h5": str(folder / "truncated.h5"), "an empty folder": str(folder / "empty"),
            "another noise size": str(folder / "noise50.h5"), "another image size": str(folder / "size64.h5"),
            "a discriminator": str(models / "discriminator.h5"), "a Lambda": str(folder / "lambda.h5"),
            "a custom layer": str(folder / "custom.h5"), "a conditional generator": str(models / "conditional.h5")}


EXPECTED = {"random bytes": "not a Keras .h5 model", "a text file": "not a Keras .h5 model",
            "a truncated .h5": "damaged or truncated", "an empty folder": "no generator.h5 in this folder",
            "another noise size": "takes 50 noise numbers; facegan's take 100",
            "another image size": "made for 64x64 images; this needs 32x32",
            "a discriminator": "a discriminator (image -> 1 number), where a generator (noise -> image) is needed",
            "a Lambda": "holds a Lambda layer (Python code), which facegan never runs",
            "a custom layer": "holds a layer Keras does not have, 'elsewhere>Doubling'",
            "a conditional generator": "is age-conditional (inputs: noise and age group): this needs a plain model"}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, models):
    return _bad_files(tmp_path_factory.mktemp("bad"), models)


@pytest.mark.parametrize("case", EXPECTED)
def test_each_bad_file_is_one_line_naming_it_and_the_problem(case, bad_files):
    """As `--init-from` into a plain 32x32 run reads a generator: the checks every command goes through."""
    path = bad_files[case]
    with pytest.raises(FaceganError) as raised:
        checkpoints.start_from(build_generator(**TINY), checkpoints.find_generator(path))
    message = str(raised.value)
    assert EXPECTED[case] in message and path in message and "\n" not in message


def test_a_plain_generator_where_a_conditional_one_is_needed(models):
    with pytest.raises(FaceganError, match="generator.h5 is not age-conditional: this needs a model trained"):
        weights.load_model_h5(str(models / "generator.h5"), "generator", conditional=True)


def test_a_weights_only_h5_is_named_as_such(models, tmp_path):
    build_generator(**TINY).save_weights(str(tmp_path / "only.weights.h5"))
    with pytest.raises(FaceganError, match="holds weights only, no model config"):
        weights.load_model_h5(str(tmp_path / "only.weights.h5"))


def test_a_conditional_discriminator_beside_a_plain_generator_is_refused(models):
    with pytest.raises(FaceganError, match="is age-conditional"):
        weights.load_model_h5(str(models / "conditional_discriminator.h5"), "discriminator", False, 32)


@pytest.mark.parametrize("command, case", [
    (["generate"], "random bytes"), (["generate"], "a text file"), (["generate"], "a Lambda"),
    (["evaluate", "--real", "."], "a discriminator"), (["project", "face.png"], "a conditional generator"),
])
def test_the_commands_say_it_in_one_line_and_exit_2(command, case, bad_files, tmp_path):
    assert one_line_error(*command, "--checkpoint", bad_files[case], cwd=tmp_path).startswith(
        f"error: {bad_files[case]}") and EXPECTED[case] in one_line_error.last


def test_age_flags_given_a_plain_generator_exit_2_in_one_line(models, tmp_path):
    plain = str(models / "generator.h5")
    assert one_line_error("generate", "--age", "30", "--checkpoint", plain, cwd=tmp_path) == \
        f"error: {plain} is not age-conditional: this needs a model trained with `train.py --conditional`"


def test_init_from_a_damaged_pair_exits_2_in_one_line(bad_files, face_folder, tmp_path):
    init = tmp_path / "init"
    init.mkdir()
    for name in ("generator.h5", "discriminator.h5"):
        with open(bad_files["a truncated .h5"], "rb") as source:
            (init / name).write_bytes(source.read())
    tiny = ["--image-size", "32", "--filters", "4", "--epochs", "1", "--batch-size", "8"]
    assert one_line_error("train", "--data", face_folder, *tiny, "--init-from", str(init), "--out",
                          str(tmp_path / "run"), cwd=tmp_path).startswith(
        f"error: {init / 'generator.h5'}: a damaged or truncated .h5 (")


def one_line_error(*arguments, cwd):
    """The CLI's stderr, which must be exit code 2 and one line (TensorFlow's own start-up lines aside)."""
    result = subprocess.run([sys.executable, "-m", "facegan.cli", *arguments], capture_output=True, text=True,
                            cwd=str(cwd), env=ENVIRONMENT)
    lines = [line for line in result.stderr.splitlines() if not line.startswith(("WARNING: All log", "I0000"))]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    one_line_error.last = lines[0]
    return lines[0]


TF_KERAS_PREDICT = """
import sys
import numpy as np, tf_keras
for path in sys.argv[1:]:
    model = tf_keras.models.load_model(path, compile=False)
    inputs = dict(np.load(path + ".in.npz"))
    np.save(path + ".tf_keras.npy", model.predict([inputs[name] for name in sorted(inputs)], verbose=0))
"""


def _same_in_tf_keras(pairs):
    """Each (Keras 3 file, tf-keras file) pair predicts the same faces from the same inputs in both Keras."""
    pytest.importorskip("tf_keras", reason="the test extra's tf-keras is not installed")
    rng = np.random.default_rng(0)
    expected = {}
    for original, copy in pairs:
        model = weights.load_model_h5(original, "generator")
        inputs = [rng.uniform(-1, 1, (4, 100)).astype(np.float32), np.eye(7, dtype=np.float32)[[0, 2, 5, 6]]]
        inputs = inputs[:len(model.inputs)]
        np.savez(copy + ".in.npz", **{f"input_{index}": value for index, value in enumerate(inputs)})
        expected[copy] = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    result = subprocess.run([sys.executable, "-c", TF_KERAS_PREDICT, *expected], capture_output=True, text=True,
                            env={**ENVIRONMENT, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    for copy, images in expected.items():
        np.testing.assert_allclose(np.load(copy + ".tf_keras.npy"), images, atol=2e-6)


def test_a_saved_plain_generator_loads_in_tf_keras_as_it_is_and_export_serves_the_conditional_one(models, tmp_path):
    conditional = str(tmp_path / "conditional_keras2.h5")
    assert main(["export", "--keras2", str(models / "conditional.h5"), conditional]) == 0
    inputs = [np.zeros((2, 100), np.float32), np.eye(7, dtype=np.float32)[[1, 5]]]
    np.testing.assert_array_equal(weights.load_model_h5(conditional, "generator", True).predict(inputs, verbose=0),
                                  weights.load_model_h5(str(models / "conditional.h5")).predict(inputs, verbose=0))
    plain = str(tmp_path / "generator.h5")
    shutil.copyfile(models / "generator.h5", plain)
    _same_in_tf_keras([(plain, plain), (str(models / "conditional.h5"), conditional)])


def test_the_shipped_generators_export_for_tf_keras(tmp_path):
    pairs = []
    for shipped in (checkpoints.SHIPPED_DIR, checkpoints.SHIPPED_AGING_DIR):
        pairs.append((os.path.join(shipped, "generator.h5"), str(tmp_path / f"{os.path.basename(shipped)}.h5")))
        assert main(["export", "--keras2", shipped, pairs[-1][1]]) == 0
    _same_in_tf_keras(pairs)


TF_KERAS_DCGAN = """
import sys
import numpy as np, tf_keras as keras
from tf_keras import layers

def generator(kernel):  # facegan's build_generator(32, 4), layer for layer, in Keras 2
    model = keras.Sequential([keras.Input((100,)), layers.Dense(256, use_bias=False),
                              layers.BatchNormalization(momentum=0.9, epsilon=1e-5), layers.ReLU(),
                              layers.Reshape((4, 4, 16))], name="generator")
    for filters in (8, 4):
        model.add(layers.Conv2DTranspose(filters, kernel, strides=2, padding="same", use_bias=False))
        model.add(layers.BatchNormalization(momentum=0.9, epsilon=1e-5))
        model.add(layers.ReLU())
    model.add(layers.Conv2DTranspose(3, kernel, strides=2, padding="same", activation="tanh"))
    return model

noise = np.random.default_rng(0).uniform(-1, 1, (4, 100)).astype(np.float32)
for kernel, path in ((5, sys.argv[1]), (4, sys.argv[2])):
    model = generator(kernel)
    model.layers[1].set_weights([w + 0.5 for w in model.layers[1].get_weights()])  # BN state that counts
    model.save(path)
    np.save(path + ".npy", model.predict(noise, verbose=0))
"""


def test_a_dcgan_generator_saved_by_tf_keras_draws_here_and_other_layers_are_named(tmp_path):
    pytest.importorskip("tf_keras", reason="the test extra's tf-keras is not installed")
    same, other = str(tmp_path / "keras2.h5"), str(tmp_path / "keras2_4x4.h5")
    result = subprocess.run([sys.executable, "-c", TF_KERAS_DCGAN, same, other], capture_output=True, text=True,
                            env={**ENVIRONMENT, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    assert main(["generate", "--checkpoint", same, "--n", "4", "--out", str(tmp_path / "faces.png")]) == 0
    assert os.path.getsize(tmp_path / "faces.png") > 0
    noise = np.random.default_rng(0).uniform(-1, 1, (4, 100)).astype(np.float32)
    started = build_generator(**TINY)
    checkpoints.start_from(started, same)  # what --init-from does with it
    for model in (weights.load_model_h5(same, "generator", False, 32), started):
        np.testing.assert_allclose(model.predict(noise, verbose=0), np.load(same + ".npy"), atol=2e-6)
    with pytest.raises(FaceganError, match=r"keras2_4x4.h5: only 5 of its 17 weight arrays fit generator \(its "
                                           r"array 6 is \(4, 4, 8, 16\), generator's \S+ is \(5, 5, 8, 16\)\)"):
        checkpoints.start_from(build_generator(**TINY), other)
