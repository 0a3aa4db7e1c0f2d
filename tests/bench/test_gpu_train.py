"""bench/gpu_train.py's way back from a device call: files of at most 16 MiB, joined here into models that load."""
import argparse
import filecmp
import os
import shutil
import sys

import pytest

from tests.conftest import REPO
from facegan import FaceganError

sys.path.insert(0, os.path.join(REPO, "bench"))
import gpu_train  # noqa: E402


def test_parts_join_into_the_same_files_and_each_is_checked_by_loading_it(saved_models, tmp_path, monkeypatch,
                                                                           capsys):
    monkeypatch.setattr(gpu_train, "PART", 10_000)
    back = tmp_path / "back"
    back.mkdir()
    for name in ("generator", "discriminator"):
        gpu_train.split(str(saved_models / f"{name}.h5"), str(back / f"{name}.h5"))
    assert len(os.listdir(back)) > 4 and max(os.path.getsize(back / name) for name in os.listdir(back)) <= 10_000
    gpu_train.join(argparse.Namespace(folder=str(back)))
    for name in ("generator", "discriminator"):
        assert filecmp.cmp(saved_models / f"{name}.h5", back / f"{name}.h5", shallow=False)
    assert "generator.h5: generator, from" in capsys.readouterr().out

    shutil.copyfile(saved_models / "generator.h5", back / "broken.h5.0")  # a part missing: not a model
    with open(back / "broken.h5.0", "r+b") as f:
        f.truncate(5_000)
    with pytest.raises(FaceganError, match="broken.h5: a damaged or truncated .h5"):
        gpu_train.join(argparse.Namespace(folder=str(back)))
