"""`facegan fit-gender` end to end: it writes the reader beside the encoder, `facegan age` then loads it, a new
encoder makes it stale with a one-line error, and too few labelled faces are refused."""
import os
import shutil

import numpy as np
from PIL import Image

from facegan.cli import main
from facegan.io import model_folder

from tests.conftest import write_faces


def write_labelled_faces(folder, count, seed=0):
    """UTKFace-named faces of both genders, the women's tinted red and the men's blue."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        female = index % 2
        pixels = rng.integers(0, 150, (40, 40, 3))
        pixels[..., 0 if female else 2] += 100
        Image.fromarray(pixels.astype(np.uint8)).save(
            os.path.join(folder, f"{20 + index % 50}_{female}_0_2017{index:010d}.jpg.chip.jpg"))
    return folder


def test_fit_gender_writes_the_reader_that_age_then_loads(conditional_run, tmp_path, capsys):
    run = tmp_path / "run"  # G, D and an encoder side by side, as checkpoints/aging-utkface-64
    run.mkdir()
    for name in ("checkpoint/generator.h5", "checkpoint/discriminator.h5"):
        shutil.copy(os.path.join(conditional_run, name), run)
    assert main(["train-encoder", "--checkpoint", str(run), "--encoder-steps", "3"]) == 0
    faces = write_labelled_faces(str(tmp_path / "faces"), 140)
    held_out = tmp_path / "held"
    held_out.mkdir()
    for name in sorted(os.listdir(faces))[:20]:
        shutil.copy(os.path.join(faces, name), held_out)
    (tmp_path / "faces" / "30_1_0_broken.jpg").write_bytes(b"not a jpeg")
    capsys.readouterr()
    assert main(["fit-gender", "--data", faces, "--exclude", str(held_out), "--checkpoint", str(run),
                 "--n", "500"]) == 0
    women = sum(name.split("_")[1] == "1" for name in os.listdir(faces)
                if "broken" not in name and not os.path.exists(held_out / name))
    printed = capsys.readouterr().out
    assert f"fitting on {120 - women} men and {women} women" in printed
    assert "warning: skipped 1 unusable file(s): 30_1_0_broken.jpg (not an image)" in printed
    assert os.path.isfile(run / model_folder.READER_FILE)

    photos = write_faces(str(tmp_path / "photos"), 1, size=40)
    quick = ["--steps", "2", "--restarts", "1", "--checkpoint", str(run), "--aligned", "--to", "60"]
    assert main(["age", photos, "--out", str(tmp_path / "aged"), *quick]) == 0
    assert f"gender reader: {run}/{model_folder.READER_FILE}" in capsys.readouterr().out

    assert main(["train-encoder", "--checkpoint", str(run), "--encoder-steps", "3", "--seed", "1"]) == 0
    assert "fit it again with `facegan fit-gender" in capsys.readouterr().out
    assert main(["age", photos, "--out", str(tmp_path / "aged"), *quick]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "fit to another latent encoder" in error and "fit-gender" in error
    assert os.path.isfile(run / model_folder.ENCODER_FILE) and os.path.isfile(run / model_folder.READER_FILE), \
        "nothing lost"


def test_fit_gender_refuses_faces_without_both_genders(conditional_run, tmp_path, capsys):
    men = write_faces(str(tmp_path / "men"), 60)  # all named AGE_0_...
    assert main(["fit-gender", "--data", men, "--checkpoint", conditional_run, "--n", "100"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "60 men and 0 women" in error
    assert main(["fit-gender", "--data", men, "--exclude", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nowhere'}: no such folder\n"
