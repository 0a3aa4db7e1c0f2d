"""Model files: every bad one is a one-line error naming it; generators load in tf-keras, and tf-keras' here."""
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from facegan import FaceganError
from facegan.cli import main
from facegan.gan.models import build_generator
from facegan.io import checkpoints, model_folder, weights

from tests.conftest import REPO, TINY

ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}


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
def bad_files(tmp_path_factory, saved_models):
    return _bad_files(tmp_path_factory.mktemp("bad"), saved_models)


@pytest.mark.parametrize("case", EXPECTED)
def test_each_bad_file_is_one_line_naming_it_and_the_problem(case, bad_files):
    """As `--init-from` into a plain 32x32 run reads a generator: the checks every command goes through."""
    path = bad_files[case]
    with pytest.raises(FaceganError) as raised:
        checkpoints.start_from(build_generator(**TINY), model_folder.ModelFolder(path).generator)
    message = str(raised.value)
    assert EXPECTED[case] in message and path in message and "\n" not in message


def test_a_plain_generator_where_a_conditional_one_is_needed(saved_models):
    with pytest.raises(FaceganError, match="generator.h5 is not age-conditional: this needs a model trained"):
        weights.load_model_h5(str(saved_models / "generator.h5"), "generator", conditional=True)


def test_a_weights_only_h5_is_named_as_such(tmp_path):
    build_generator(**TINY).save_weights(str(tmp_path / "only.weights.h5"))
    with pytest.raises(FaceganError, match="holds weights only, no model config"):
        weights.load_model_h5(str(tmp_path / "only.weights.h5"))


def test_a_conditional_discriminator_beside_a_plain_generator_is_refused(saved_models):
    with pytest.raises(FaceganError, match="is age-conditional"):
        weights.load_model_h5(str(saved_models / "conditional_discriminator.h5"), "discriminator", False, 32)


ONE_LINE_CASES = [(["generate"], "random bytes"), (["generate"], "a text file"), (["generate"], "a Lambda"),
                  (["evaluate", "--real", "."], "a discriminator"), (["project", "face.png"], "a conditional generator")]
# The commands of ONE_LINE_CASES, one after another in one fresh Python (TensorFlow starts once): each one's exit code,
# and all it writes to file descriptor 2 (Python's or TensorFlow's C++ output alike) in a file of its own
COMMANDS_IN_ONE_PYTHON = """
import json, os, sys
from facegan.cli import main
codes = []
for arguments, stderr_path in json.loads(sys.argv[1]):
    with open(stderr_path, "w") as stderr:
        sys.stderr.flush()
        os.dup2(stderr.fileno(), 2)
        try:
            codes.append(main(arguments))
        except SystemExit as stop:
            codes.append(stop.code)
        sys.stderr.flush()
print(json.dumps(codes))
"""


@pytest.fixture(scope="module")
def one_line_errors(bad_files, tmp_path_factory):
    """{(command, case): (exit code, stderr lines)} of each of ONE_LINE_CASES, TensorFlow's start-up lines aside."""
    folder = tmp_path_factory.mktemp("one_line")
    runs = [([*command, "--checkpoint", bad_files[case]], str(folder / f"{index}.err"))
            for index, (command, case) in enumerate(ONE_LINE_CASES)]
    result = subprocess.run([sys.executable, "-c", COMMANDS_IN_ONE_PYTHON, json.dumps(runs)], capture_output=True,
                            text=True, cwd=str(folder), env=ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    codes = json.loads(result.stdout.strip().splitlines()[-1])
    errors = {}
    for (command, case), code, (_arguments, stderr_path) in zip(ONE_LINE_CASES, codes, runs):
        with open(stderr_path) as f:
            errors[" ".join(command), case] = (code, [line for line in f.read().splitlines()
                                                      if not line.startswith(("WARNING: All log", "I0000"))])
    return errors


@pytest.mark.parametrize("command, case", ONE_LINE_CASES)
def test_the_commands_say_it_in_one_line_and_exit_2(command, case, bad_files, one_line_errors):
    code, lines = one_line_errors[" ".join(command), case]
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {bad_files[case]}") and EXPECTED[case] in lines[0]


EVERY_READER = {  # every command that reads --checkpoint (or --init-from), called on FOLDER; FILE: any file
    "generate": ["generate", "--checkpoint", "FOLDER"],
    "project": ["project", "FILE", "--checkpoint", "FOLDER"],
    "math": ["math", "FILE", "--checkpoint", "FOLDER"],
    "interpolate": ["interpolate", "FILE", "FILE", "--checkpoint", "FOLDER"],
    "complete": ["complete", "FILE", "--checkpoint", "FOLDER"],
    "evaluate": ["evaluate", "--real", "DATA", "--checkpoint", "FOLDER"],
    "age": ["age", "FILE", "--to", "60", "--aligned", "--checkpoint", "FOLDER"],
    "train-encoder": ["train-encoder", "--checkpoint", "FOLDER"],
    "serve": ["serve", "--port", "0", "--checkpoint", "FOLDER"],
    "export": ["export", "--keras2", "FOLDER", "OUT"],
    "train --init-from": ["train", "--data", "DATA", "--image-size", "32", "--filters", "4", "--batch-size", "8",
                          "--init-from", "FOLDER", "--out", "OUT"],
}


@pytest.mark.parametrize("command", EVERY_READER)
def test_every_command_that_reads_a_model_goes_through_the_one_check(command, saved_models, face_folder, tmp_path,
                                                                     capsys):
    """A discriminator saved as generator.h5 loads in plain Keras: only the check can tell it is the wrong model."""
    if command == "serve":
        pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("generator.h5", "discriminator.h5"):
        shutil.copyfile(saved_models / "discriminator.h5", folder / name)
    places = {"FOLDER": str(folder), "FILE": str(folder / "discriminator.h5"), "DATA": face_folder,
              "OUT": str(tmp_path / "out")}
    assert main([places.get(argument, argument) for argument in EVERY_READER[command]]) == 2
    assert capsys.readouterr().err.strip() == (f"error: {folder / 'generator.h5'}: {EXPECTED['a discriminator']}")


def test_init_from_checks_the_average_it_carries_on_and_a_plain_one_starts_a_conditional_run(saved_models,
                                                                                             face_folder, tmp_path,
                                                                                             capsys):
    folder = tmp_path / "init"
    folder.mkdir()
    for name in ("generator", "discriminator"):
        shutil.copyfile(saved_models / f"{name}.h5", folder / f"{name}.h5")
    shutil.copyfile(saved_models / "discriminator.h5", folder / "generator_ema.h5")
    train = ["train", "--data", face_folder, "--image-size", "32", "--filters", "4", "--batch-size", "8",
             "--epochs", "1", "--ema", "0.9", "--init-from", str(folder)]
    assert main([*train, "--out", str(tmp_path / "refused")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {folder / 'generator_ema.h5'}: {EXPECTED['a discriminator']}"
    shutil.copyfile(saved_models / "generator.h5", folder / "generator_ema.h5")
    assert main([*train, "--conditional", "--out", str(tmp_path / "aging")]) == 0


def test_a_discriminator_that_does_not_match_its_generator_is_named(saved_models, tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copyfile(saved_models / "generator.h5", folder / "generator.h5")
    shutil.copyfile(saved_models / "conditional_discriminator.h5", folder / "discriminator.h5")
    assert main(["project", str(folder / "generator.h5"), "--checkpoint", str(folder)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {folder / 'discriminator.h5'} is age-conditional")


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


def test_a_half_copy_stores_float16_and_both_keras_load_it_as_float32_drawing_the_same_faces(saved_models, tmp_path):
    import h5py

    from tests.commands.test_export import _same_in_tf_keras

    source, half = str(saved_models / "generator.h5"), str(tmp_path / "half.h5")
    weights.save_half_h5(source, half)
    with h5py.File(half, "r") as f:
        stored = []
        f["model_weights"].visit(lambda name: stored.append(f["model_weights"][name]))
        assert {item.dtype for item in stored if isinstance(item, h5py.Dataset)} == {np.dtype("float16")}
    original, loaded = weights.load_model_h5(source), weights.load_model_h5(half, "generator", False)
    assert {w.dtype for w in loaded.weights} == {"float32"}
    for before, after in zip(original.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(after, before.astype(np.float16).astype(np.float32))
    noise = np.random.default_rng(0).uniform(-1, 1, (4, 100)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(noise, verbose=0), original.predict(noise, verbose=0), atol=0.01)
    _same_in_tf_keras([(half, half)])
