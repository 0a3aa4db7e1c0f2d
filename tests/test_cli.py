import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from facegan import checkpoints, pictures, training
from facegan.cli import main

from conftest import REPO, TINY


def run_script(script, *arguments, cwd=None):
    return subprocess.run([sys.executable, os.path.join(REPO, script), *arguments], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from conftest import write_faces

    root = tmp_path_factory.mktemp("cli")
    faces = write_faces(str(root / "faces"), 16)
    run = str(root / "checkpoints" / "run-a")
    training.train({**training.DEFAULTS, **TINY, "data": faces, "batch_size": 8, "epochs": 1}, run)
    return run


def our_error(stderr):
    """Our message is the last line; TensorFlow's loader may print its banner lines before it."""
    assert "Traceback" not in stderr
    return stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("arguments, message", [
    (["--epochs", "-1"], "--epochs must be at least 1"),
    (["--image-size", "48"], "--image-size 48 is not supported"),
    (["--batch-size", "500"], "--batch-size 500 is larger than the 16 usable images"),
    (["--data", "/no/such/folder"], "/no/such/folder: no such folder"),
    (["--real-label", "0.3"], "--real-label must be in (0.5, 1]"),
    (["--generator-steps", "0"], "--generator-steps at least 1"),
    (["--ema", "1"], "--ema must be in [0, 1)"),
    (["--ema", "0.999", "--model", "vae"], "goes with GAN runs only"),
    (["--mismatched-ages"], "--mismatched-ages teaches D the age groups; it goes with --conditional"),
])
def test_nonsense_arguments_are_one_line_errors(arguments, message, tmp_path, capsys):
    from conftest import write_faces

    faces = write_faces(str(tmp_path / "faces"), 16)
    assert main(["train", "--data", faces, "--out", str(tmp_path / "run"), *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not os.path.exists(tmp_path / "run" / "checkpoint")


def test_a_value_of_the_wrong_type_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--epochs", "many"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == ("facegan train: error: argument --epochs: invalid int value: 'many' "
                                               "(see --help)")


def test_train_py_exits_2_with_one_line_for_a_folder_without_images(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_script("train.py", "--data", str(tmp_path / "empty"), cwd=str(tmp_path))
    assert result.returncode == 2
    assert our_error(result.stderr) == f"error: {tmp_path / 'empty'}: no images found (looked for .jpg, .jpeg, " \
                                       ".png, .bmp, .webp)"


def test_a_run_with_a_checkpoint_is_not_overwritten_without_resume(trained_run, capsys):
    assert main(["train", "--out", trained_run]) == 2
    assert "add --resume" in capsys.readouterr().err


def test_generate_without_any_checkpoint_says_how_to_train_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", str(tmp_path / "nothing shipped"))
    assert main(["generate", "--n", "4"]) == 2
    error = capsys.readouterr().err.strip()
    assert "python train.py" in error and "\n" not in error


def test_without_a_run_of_your_own_generate_uses_the_shipped_model(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checkpoints, "SHIPPED_DIR", checkpoints.checkpoint_dir(trained_run))
    assert main(["generate", "--n", "4", "--out", "grid.png"]) == 0
    assert Image.open(tmp_path / "grid.png").size == (2 * 34 + 2, 2 * 34 + 2)


def test_generate_defaults_to_the_newest_run_and_the_seed_fixes_the_faces(trained_run, tmp_path, monkeypatch):
    monkeypatch.chdir(os.path.dirname(os.path.dirname(trained_run)))  # checkpoints/ is found from here
    first, second, third = (str(tmp_path / name) for name in ("a.png", "b.png", "c.png"))
    assert main(["generate", "--n", "9", "--seed", "7", "--out", first, "--out-dir", str(tmp_path / "faces")]) == 0
    assert main(["generate", "--n", "9", "--seed", "7", "--out", second]) == 0
    assert main(["generate", "--n", "9", "--seed", "8", "--out", third]) == 0
    assert Image.open(first).size == (3 * 34 + 2, 3 * 34 + 2)
    assert Image.open(first).tobytes() == Image.open(second).tobytes() != Image.open(third).tobytes()
    singles = sorted(os.listdir(tmp_path / "faces"))
    assert len(singles) == 9 and Image.open(tmp_path / "faces" / singles[0]).size == (32, 32)


def test_generate_takes_a_generator_h5(trained_run, tmp_path):
    generator = checkpoints.find_generator(trained_run)
    assert main(["generate", "--n", "64", "--checkpoint", generator, "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (8 * 34 + 2, 8 * 34 + 2)


QUICK = ["--steps", "3", "--restarts", "1"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    from conftest import write_faces

    folder = tmp_path_factory.mktemp("photos")
    write_faces(str(folder / "alice"), 3, seed=5)
    write_faces(str(folder / "bob"), 2, seed=6)
    (folder / "alice" / "broken.jpg").write_bytes(b"not a jpeg")
    return folder


def test_project_writes_codes_reconstructions_strips_and_errors(trained_run, photos, tmp_path, capsys):
    out = tmp_path / "z"
    assert main(["project", str(photos / "alice"), "--checkpoint", trained_run, "--out", str(out), *QUICK]) == 0
    printed = capsys.readouterr().out
    assert "skipped 1 unusable file(s): broken.jpg" in printed and "3 face(s), mean pixel error" in printed
    names = sorted(f for f in os.listdir(photos / "alice") if f != "broken.jpg")
    for name in names:
        assert np.load(out / f"{name}.npy").shape == (100,)
        assert Image.open(out / f"{name}.png").size == (32, 32)
        assert Image.open(out / f"{name}.strip.png").size == (2 * 34 + 2, 34 + 2)
    rows = (out / "errors.csv").read_text().splitlines()
    assert rows[0] == "file,mean_pixel_error" and len(rows) == 4
    assert all(0 <= float(row.split(",")[1]) <= 255 for row in rows[1:])


def test_math_on_saved_codes_is_exact_and_draws_the_result(trained_run, photos, tmp_path):
    out = tmp_path / "z"
    assert main(["project", str(photos / "alice"), "--checkpoint", trained_run, "--out", str(out), *QUICK]) == 0
    codes = sorted(str(out / f) for f in os.listdir(out) if f.endswith(".npy"))
    expression = f"mean({out}/*) - {codes[0]} + 0.5 * {codes[1]}"
    assert main(["math", expression, "--checkpoint", trained_run, "--out", str(tmp_path / "r.png")]) == 0
    expected = np.mean([np.load(c) for c in codes], axis=0) - np.load(codes[0]) + 0.5 * np.load(codes[1])
    assert np.allclose(np.load(tmp_path / "r.npy"), expected, atol=1e-6)
    generator = keras.models.load_model(checkpoints.find_generator(trained_run))
    drawn = np.asarray(Image.open(tmp_path / "r.png"), np.int16)
    assert np.abs(drawn - pictures.to_uint8(generator.predict(expected[None], verbose=0))[0]).max() <= 1
    assert Image.open(tmp_path / "r.strip.png").size == (4 * 34 + 2, 34 + 2), "three terms, then the result"


def test_math_projects_images_and_folders(trained_run, photos, tmp_path, capsys):
    expression = f"mean({photos}/alice/*) - {photos}/bob"
    assert main(["math", expression, "--checkpoint", trained_run, "--out", str(tmp_path / "r.png"), *QUICK]) == 0
    assert "projected 5 face(s)" in capsys.readouterr().out
    assert np.load(tmp_path / "r.npy").shape == (100,)


@pytest.mark.parametrize("out, check", [
    ("morph.gif", lambda path: Image.open(path).n_frames == 2 * 9 - 2),
    ("morph.png", lambda path: Image.open(path).size == (5 * 34 + 2, 2 * 34 + 2)),
    ("frames", lambda path: len(os.listdir(path)) == 9),
])
def test_interpolate_writes_a_gif_a_strip_or_frames(trained_run, tmp_path, out, check):
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        np.save(tmp_path / f"{name}.npy", rng.uniform(-1, 1, 100).astype(np.float32))
    ends = [str(tmp_path / f"{name}.npy") for name in ("a", "b", "c")]
    assert main(["interpolate", *ends, "--steps", "5", "--method", "cube", "--checkpoint", trained_run,
                 "--out", str(tmp_path / out)]) == 0
    assert check(tmp_path / out)


def test_complete_keeps_the_known_pixels(trained_run, photos, tmp_path):
    out = tmp_path / "done"
    assert main(["complete", str(photos / "bob"), "--mask", "left", "--checkpoint", trained_run,
                 "--out", str(out), *QUICK]) == 0
    from facegan.data import read_face

    for name in os.listdir(photos / "bob"):
        original = read_face(str(photos / "bob" / name), 32)
        completed = np.asarray(Image.open(out / f"{name}.png"))
        assert np.array_equal(completed[:, 16:], original[:, 16:])
        assert not np.array_equal(completed[:, :16], original[:, :16])
        assert Image.open(out / f"{name}.strip.png").size == (3 * 34 + 2, 34 + 2)


@pytest.mark.parametrize("command", [
    ["project", "/no/such/photo.jpg"], ["math", "/no/such/photo.jpg"], ["interpolate", "/no/a.jpg", "/no/b.jpg"],
    ["complete", "/no/such/photo.jpg"], ["complete", "PHOTOS", "--mask", "/no/mask.png"],
    ["project", "PHOTOS", "--steps", "0"], ["math", "a.jpg +"],
])
def test_face_math_commands_fail_in_one_line(trained_run, photos, command, capsys):
    command = [str(photos / "bob") if part == "PHOTOS" else part for part in command]
    assert main([*command, "--checkpoint", trained_run]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "\n" not in error


def test_projection_needs_the_discriminator_beside_the_generator(trained_run, tmp_path, photos, capsys):
    alone = tmp_path / "generator.h5"
    shutil.copy(checkpoints.find_generator(trained_run), alone)
    assert main(["project", str(photos / "bob"), "--checkpoint", str(alone)]) == 2
    assert "discriminator.h5: missing" in capsys.readouterr().err


def test_generate_at_an_age_and_as_an_age_sweep(conditional_run, tmp_path):
    assert main(["generate", "--checkpoint", conditional_run, "--n", "4", "--age", "60", "--seed", "1",
                 "--out", str(tmp_path / "sixty.png")]) == 0
    assert main(["generate", "--checkpoint", conditional_run, "--n", "4", "--age", "62", "--seed", "1",
                 "--out", str(tmp_path / "sixty-two.png")]) == 0
    assert main(["generate", "--checkpoint", conditional_run, "--n", "4", "--age", "25", "--seed", "1",
                 "--out", str(tmp_path / "young.png")]) == 0
    sixty, sixty_two, young = (Image.open(tmp_path / name).tobytes()
                               for name in ("sixty.png", "sixty-two.png", "young.png"))
    assert sixty == sixty_two != young, "60 and 62 share the 55-65 group; 25 does not"
    assert main(["generate", "--checkpoint", conditional_run, "--n", "3", "--age-sweep",
                 "--out", str(tmp_path / "sweep.png")]) == 0
    assert Image.open(tmp_path / "sweep.png").size == (7 * 34 + 2, 3 * 34 + 2)


@pytest.mark.parametrize("arguments, message", [
    (["--age", "130"], "--age must be between 0 and 120"),
])
def test_generate_age_errors(conditional_run, arguments, message, capsys):
    assert main(["generate", "--checkpoint", conditional_run, *arguments]) == 2
    assert message in capsys.readouterr().err


def test_age_flags_need_a_conditional_checkpoint_and_face_math_an_unconditional_one(trained_run, conditional_run,
                                                                                     photos, capsys):
    assert main(["generate", "--checkpoint", trained_run, "--age", "60"]) == 2
    assert "is not age-conditional" in capsys.readouterr().err
    assert main(["project", str(photos / "bob"), "--checkpoint", conditional_run]) == 2
    assert "is age-conditional" in capsys.readouterr().err
