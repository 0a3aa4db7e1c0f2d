"""The recipe on every Keras 3 backend. The suite runs on one backend (TensorFlow, the default); here the
weight-snapshot, resume and one-epoch tests run again under each other backend, in a fresh Python with
KERAS_BACKEND set (a process holds one backend), and a generator saved under any backend must draw the same faces
under the others. A backend whose package is not installed is skipped (`pip install -e ".[jax]"`)."""
import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests import backend_faces
from tests.conftest import PYTEST, REPO

PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}  # Keras backend -> the package it needs
HERE = keras.backend.backend()
OTHERS = [name for name in PACKAGES if name != HERE]
# The snapshot test (D frozen in G's step, G untouched in D's, over three calls) on the plain pair and on the
# conditional one with every D-side option and bf16 at once; that the toggle is needed there too; and resume,
# whose runs of 1 and 3 epochs must reach the same weights. Few tests: JAX compiles each model anew, slowly on a CPU.
SUBSET = ["tests/gan/test_recipe.py::test_each_half_step_changes_exactly_its_own_model[plain-recipe]",
          "tests/gan/test_recipe.py::test_each_half_step_changes_exactly_its_own_model"
          "[conditional-diffaugment+instance-noise+ttur+ada+r1+bf16]",
          "tests/gan/test_recipe.py::test_without_the_toggle_the_generator_step_would_train_the_discriminator"
          "[plain-recipe]",
          "tests/gan/test_training.py::test_resuming_reaches_the_same_weights_as_an_uninterrupted_run"]


def on(backend):
    """The environment of a fresh Python on `backend`; skips when its package is missing."""
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"{backend} is not installed")
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": os.pathsep.join(filter(None, (REPO, os.environ.get("PYTHONPATH"))))}


def python(code, **environment):
    """`code` run by a fresh Python (without Keras unless the code imports it) in `environment`."""
    variables = {key: value for key, value in os.environ.items() if key not in ("KERAS_BACKEND", "KERAS_HOME")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**variables, "PYTHONPATH": REPO, **environment})


def test_the_backend_is_known_before_keras_loads_as_keras_decides_it(tmp_path):
    code = "import sys; from facegan.backend import keras_backend; print(keras_backend(), 'keras' in sys.modules)"
    assert python(code, KERAS_HOME=str(tmp_path)).stdout.split() == ["tensorflow", "False"]
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    assert python(code, KERAS_HOME=str(tmp_path)).stdout.split() == ["jax", "False"]
    assert python(code, KERAS_HOME=str(tmp_path), KERAS_BACKEND="torch").stdout.split() == ["torch", "False"]


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_under_another_backend_facegan_keeps_tensorflow_out(backend):
    result = python("import facegan\ntry:\n    import tensorflow\nexcept ImportError as error:\n    print(error)",
                    KERAS_BACKEND=backend)
    assert result.stdout.strip() == f"TensorFlow is kept out under KERAS_BACKEND={backend}", result.stderr


def test_what_needs_tensorflow_is_one_line_and_exit_2_naming_the_backend(face_folder):
    env = on("jax" if HERE != "jax" else "torch")
    result = subprocess.run([sys.executable, os.path.join(REPO, "train.py"), "--data", face_folder, "--distribute",
                             "mirrored"], capture_output=True, text=True, env=env)
    assert result.returncode == 2 and result.stderr == (
        f"error: --distribute mirrored needs TensorFlow, and Keras runs on {env['KERAS_BACKEND']} here "
        f"(KERAS_BACKEND={env['KERAS_BACKEND']}): run it with KERAS_BACKEND=tensorflow\n"), result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("backend", OTHERS)
def test_the_recipe_tests_pass_on_the_other_backends(backend):
    result = subprocess.run([sys.executable, *PYTEST, *SUBSET], cwd=REPO,
                            env=on(backend), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"{len(SUBSET)} passed" in result.stdout.splitlines()[-1], result.stdout[-500:]


@pytest.mark.slow
def test_a_generator_saved_under_any_backend_draws_the_same_faces_under_the_others(tmp_path):
    available = [name for name in OTHERS if importlib.util.find_spec(PACKAGES[name])]
    if not available:
        pytest.skip("no other Keras backend is installed")

    def under(name, modes):
        subprocess.run([sys.executable, backend_faces.__file__, modes, str(tmp_path)], env=on(name), check=True,
                       cwd=REPO, capture_output=True)

    *first, last = available
    backend_faces.main("write", str(tmp_path))
    for name in first:
        under(name, "write")
    under(last, "write,read")  # every file is written by now: the last writer reads in the same start
    for name in first:
        under(name, "read")
    backend_faces.main("read", str(tmp_path))
    backends = [HERE, *available]
    for writer in backends:
        for kind in backend_faces.KINDS:
            drawn = np.load(tmp_path / f"{writer}-{kind}-by-{writer}.npy")
            assert drawn.std() > 0.1, "faces, not a constant image"
            for reader in backends:
                np.testing.assert_allclose(np.load(tmp_path / f"{writer}-{kind}-by-{reader}.npy"), drawn,
                                           atol=1e-4, err_msg=f"{writer}'s {kind} generator read under {reader}")


@pytest.mark.slow
@pytest.mark.parametrize("backend", [name for name in OTHERS if name == "torch"])  # JAX: 4 more minutes on 2 cores
def test_photos_are_aged_and_served_on_the_other_backends_with_dlibs_face_finder(backend, tmp_path):
    from PIL import Image

    from facegan.serve.client import age
    from tests.serve.serving import facegan_serve

    environment = on(backend)
    for module in ("dlib", "face_recognition_models", "fastapi", "uvicorn", "multipart"):
        pytest.importorskip(module, reason="the aging and serve extras are not installed")
    sample = sorted(name for name in os.listdir(os.path.join(REPO, "data")) if name.endswith(".jpg"))[50]
    photo = Image.new("RGB", (360, 300), (30, 80, 30))
    photo.paste(Image.open(os.path.join(REPO, "data", sample)).convert("RGB").rotate(15), (100, 60))
    photo.save(tmp_path / "photo.png")  # an ordinary photo, not an aligned crop: its face must be found
    result = subprocess.run([sys.executable, "-m", "facegan.cli", "age", str(tmp_path / "photo.png"), "--to", "60",
                             "--from-age", "30", "--steps", "5", "--out", str(tmp_path / "aged")], cwd=REPO,
                            env=environment, capture_output=True, text=True)
    assert result.returncode == 0 and "1 face(s) aged to 60" in result.stdout, result.stderr[-2000:]
    before, after = np.asarray(photo, np.float64), np.asarray(Image.open(tmp_path / "aged" / "photo.png.png"))
    assert after.shape == before.shape and np.abs(after - before)[60:260, 100:300].mean() > 1, "the face aged"
    np.testing.assert_array_equal(after[:40, :40], before[:40, :40], "the photo away from the face untouched")
    with facegan_serve(tmp_path / "server.log", "--steps", "5", environment=environment) as (address, _process):
        outcome = age(address, "photo.png", (tmp_path / "photo.png").read_bytes(), from_age=30)
    assert outcome[0] == "done" and "60" in outcome[1]["aged"], outcome
