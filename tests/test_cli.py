import os
import subprocess
import sys

import pytest
from PIL import Image

from facegan import checkpoints, training
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


def test_generate_without_any_checkpoint_says_how_to_train_one(tmp_path):
    result = run_script("generate.py", "--n", "4", cwd=str(tmp_path))
    assert result.returncode == 2
    assert "python train.py" in our_error(result.stderr)


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
