"""`facegan fit-strengths` end to end: it writes a table beside the encoder that `facegan age` then loads and ages
by, and refuses too few faces with an age."""
import os
import shutil

import numpy as np
import pytest

from facegan.aging import strengths
from facegan.cli import main
from facegan.io import model_folder, weights

from tests.conftest import write_faces


@pytest.mark.slow
def test_fit_strengths_writes_the_table_that_age_then_ages_by(conditional_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(strengths, "FACES", 8)  # fewer of G's faces than a real fit's, for speed
    run = tmp_path / "run"  # G, D and an encoder side by side, as checkpoints/aging-utkface-64
    run.mkdir()
    for name in ("checkpoint/generator.h5", "checkpoint/discriminator.h5"):
        shutil.copy(os.path.join(conditional_run, name), run)
    assert main(["train-encoder", "--checkpoint", str(run), "--encoder-steps", "3"]) == 0
    faces = write_faces(str(tmp_path / "faces"), 100)  # ages 20-69 from the names
    (tmp_path / "faces" / "30_1_0_broken.jpg").write_bytes(b"not a jpeg")
    capsys.readouterr()
    assert main(["fit-strengths", "--data", faces, "--checkpoint", str(run), "--n", "500",
                 "--photo-strength", "1.5"]) == 0
    printed = capsys.readouterr().out
    assert "fitting the age reader on 100 faces" in printed and "30_1_0_broken.jpg (not an image)" in printed
    path = run / model_folder.TABLE_FILE
    table, photo_strength = strengths.load_table(str(path), weights.load_model_h5(str(run / "generator.h5")))
    assert f"strength table -> {path}" in printed and table.shape == (7, 7) and photo_strength == 1.5
    assert np.all(table >= min(strengths.MULTIPLES)) and np.all(table <= max(strengths.MULTIPLES))
    assert np.all(np.diag(table) == 1) and np.all(table[strengths.REFERENCE_GROUP] == 1)

    photos = write_faces(str(tmp_path / "photos"), 1, size=40)
    quick = ["--steps", "2", "--restarts", "1", "--checkpoint", str(run), "--aligned", "--to", "60"]
    assert main(["age", photos, "--out", str(tmp_path / "aged"), *quick]) == 0
    loaded = capsys.readouterr().out
    assert f"strength table: {path}" in loaded and "calibrated strength 1.5" in loaded


def test_fit_strengths_refuses_too_few_faces_with_an_age(conditional_run, tmp_path, capsys):
    few = write_faces(str(tmp_path / "few"), 30)
    assert main(["fit-strengths", "--data", few, "--checkpoint", conditional_run]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "30 faces with an age" in error and "at least 100" in error
    assert not os.path.exists(os.path.join(conditional_run, model_folder.TABLE_FILE))
