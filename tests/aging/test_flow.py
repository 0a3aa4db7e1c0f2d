"""Moving what aging changed onto the photo's own features."""
import numpy as np
import pytest

from facegan.aging import flow


def face_with_features(shift):
    """A 64x64 face-like picture in [-1, 1]: two eyes and a mouth, all moved by `shift` (rows, columns)."""
    rows, columns = np.mgrid[0:64, 0:64].astype(np.float32)
    picture = np.zeros((64, 64), np.float32)
    for row, column, size in ((24, 22, 3.0), (24, 42, 3.0), (44, 32, 4.0), (32, 32, 14.0)):
        picture += np.exp(-((rows - row - shift[0]) ** 2 + (columns - column - shift[1]) ** 2) / (2 * size ** 2))
    return np.repeat((picture - 0.5)[..., None], 3, axis=-1)


def centre_of(change):
    weights = np.abs(change).sum(axis=-1)
    rows, columns = np.mgrid[0:64, 0:64]
    return np.array([(weights * rows).sum(), (weights * columns).sum()]) / weights.sum()


def test_a_change_drawn_beside_the_photos_features_lands_on_them():
    photo, reconstruction = face_with_features((0, 0)), face_with_features((2, -3))
    change = np.zeros((64, 64, 3), np.float32)
    change[24 + 2 - 3:24 + 2 + 4, 42 - 3 - 3:42 - 3 + 4] = 0.2  # a wrinkle beside the reconstruction's right eye
    moved = flow.onto_photos(change[None], photo[None], reconstruction[None])[0]
    np.testing.assert_allclose(centre_of(change), [26, 39], atol=0.1)
    np.testing.assert_allclose(centre_of(moved), [24, 42], atol=0.5)  # beside the photo's own eye


def test_a_photo_drawn_exactly_keeps_the_change_where_it_is():
    photo = face_with_features((0, 0))
    change = np.random.default_rng(0).uniform(-0.1, 0.1, (1, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(flow.onto_photos(change, photo[None], photo[None]), change, atol=1e-3)


def test_without_opencv_it_says_which_extra_brings_it(monkeypatch):
    import sys

    from facegan import FaceganError

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(FaceganError, match=r"\.\[aging\]"):
        flow.onto_photos(np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 3)))
