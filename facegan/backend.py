"""Which Keras 3 backend runs facegan (tensorflow, jax or torch), known before Keras loads, and the one gate for
what needs TensorFlow whatever the backend: `--distribute` (tf.distribute). (Faces in photos are found by MTCNN
under TensorFlow only, by dlib elsewhere: aging/finders.py.) Under jax or torch TensorFlow is never imported:
here, TensorFlow and torch in one process crash it (a segmentation fault, no message)."""
import importlib.abc
import importlib.machinery
import json
import os
import sys

from facegan import FaceganError


def keras_backend():
    """The backend Keras runs, or will when it loads: KERAS_BACKEND, else the one in keras.json (KERAS_HOME, else
    ~/.keras), else tensorflow, as Keras itself decides."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return json.load(f).get("backend") or "tensorflow"
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def require_tensorflow(what):
    """A one-line FaceganError, before anything imports TensorFlow, unless Keras runs on TensorFlow."""
    name = keras_backend()
    if name != "tensorflow":
        raise FaceganError(f"{what} needs TensorFlow, and Keras runs on {name} here (KERAS_BACKEND={name}): "
                           "run it with KERAS_BACKEND=tensorflow")


class _TensorFlowKeptOut(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import tensorflow` fails as if it were not installed. Keras 3 imports TensorFlow whenever it can, whatever
    the backend: `keras.utils.set_random_seed` seeds it, .h5 saving checks for its types."""

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name == "tensorflow" else None

    def create_module(self, spec):
        raise ModuleNotFoundError(f"TensorFlow is kept out under KERAS_BACKEND={keras_backend()}", name=spec.name)

    def exec_module(self, module):
        raise AssertionError("never reached: create_module refuses")


def keep_tensorflow_out():
    """Under jax or torch, from now on no import of TensorFlow succeeds in this process (`import facegan` calls
    this)."""
    if keras_backend() != "tensorflow" and not any(isinstance(finder, _TensorFlowKeptOut) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowKeptOut())
