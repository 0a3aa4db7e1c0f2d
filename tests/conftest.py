"""Shared fixtures: tiny models and a tiny folder of synthetic faces, so the suite runs in minutes on 2 cores."""
import collections
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import facegan  # noqa: E402,F401  (before any test module imports keras: it turns TensorFlow's oneDNN on)
import numpy as np
import pytest
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {"image_size": 32, "filters": 4}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test gets its own decode cache, so no test sees another's."""
    monkeypatch.setenv("FACEGAN_CACHE", str(tmp_path / "cache"))


def write_faces(folder, count, size=40, seed=0):
    """`count` random-coloured JPEGs named like UTKFace files (AGE_GENDER_RACE_DATE.jpg.chip.jpg)."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"{20 + index % 50}_0_0_2017{index:010d}.jpg.chip.jpg"))
    return folder


def count_opened_images(monkeypatch):
    """From now on, how many times PIL opens each path: a photo is decoded once per opening."""
    opened = collections.Counter()
    open_image = Image.open

    def counting_open(path, *rest, **options):
        opened[str(path)] += 1
        return open_image(path, *rest, **options)

    monkeypatch.setattr(Image, "open", counting_open)
    return opened


@pytest.fixture
def face_folder(tmp_path):
    return write_faces(str(tmp_path / "faces"), 24)


def _tiny_run(tmp_path_factory, folder, **changes):
    """A tiny run of one epoch on 16 faces, in `folder` below a fresh temporary directory."""
    from facegan.gan import training
    from facegan.gan.config import DEFAULTS

    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGAN_CACHE", str(root / "cache"))
        faces = write_faces(str(root / "faces"), 16)
        training.train({**DEFAULTS, **TINY, "data": faces, "batch_size": 8, "epochs": 1, **changes},
                       str(root / folder))
    return str(root / folder)


@pytest.fixture(scope="session")
def conditional_run(tmp_path_factory):
    """A tiny age-conditional run, trained once for the whole session (aging and command tests share it)."""
    return _tiny_run(tmp_path_factory, "run", conditional=True)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A tiny unconditional run under a checkpoints/ folder, trained once for the whole session."""
    return _tiny_run(tmp_path_factory, os.path.join("checkpoints", "run-a"))


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory):
    """A tiny plain pair and a conditional pair, untrained, saved as facegan saves them: NAME.h5 for generator,
    discriminator, conditional and conditional_discriminator."""
    import keras

    from facegan.gan import models
    from facegan.io import weights

    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(3)
    for name, build in (("generator", models.build_generator), ("discriminator", models.build_discriminator),
                        ("conditional", models.build_conditional_generator),
                        ("conditional_discriminator", models.build_conditional_discriminator)):
        weights.save_model_h5(build(**TINY), str(folder / f"{name}.h5"))
    return folder


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """Two people's photos (random pixels, UTKFace names) and one broken file."""
    folder = tmp_path_factory.mktemp("photos")
    write_faces(str(folder / "alice"), 3, seed=5)
    write_faces(str(folder / "bob"), 2, seed=6)
    (folder / "alice" / "broken.jpg").write_bytes(b"not a jpeg")
    return folder


# pytest run inside a test, in one process (no workers of its own), e.g. under another backend or strategy
PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0")


def run_script(script, *arguments, cwd=None, env=None):
    """A script of the repository in a fresh Python, as a user runs it."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, os.path.join(REPO, script), *arguments], capture_output=True, text=True,
                          cwd=cwd, env=env if env is not None else {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def pytest_sessionfinish(session):
    """Under jax or torch (tests/test_backends.py runs a subset so), facegan must never have imported TensorFlow."""
    import sys

    from facegan.backend import keras_backend

    if keras_backend() != "tensorflow" and "tensorflow" in sys.modules:
        print(f"\nTensorFlow was imported under KERAS_BACKEND={keras_backend()}", file=sys.stderr)
        session.exitstatus = 1
