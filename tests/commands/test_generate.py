"""`facegan generate` (generate.py): the newest run or the shipped model, named; seeds; ages; quiet start-up."""
import os

import pytest
from PIL import Image

from facegan.cli import main
from facegan.io import model_folder

from tests.conftest import run_script


def test_generate_without_any_checkpoint_says_how_to_train_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(model_folder, "SHIPPED_DIR", str(tmp_path / "nothing shipped"))
    assert main(["generate", "--n", "4"]) == 2
    error = capsys.readouterr().err.strip()
    assert "python train.py" in error and "\n" not in error


@pytest.mark.parametrize("out", ["grid", "grid.txt"])
def test_an_out_that_is_not_a_picture_name_fails_in_one_line_before_any_work(out, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(model_folder, "SHIPPED_DIR", str(tmp_path / "nothing shipped"))  # it fails before loading
    assert main(["generate", "--n", "4", "--out", out]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"error: {out}: not a picture file name (end it in .png or .jpg)"
    assert os.listdir(tmp_path) == []


def test_without_a_run_of_your_own_generate_uses_the_shipped_model_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--n", "4", "--out", "grid.png"]) == 0
    assert Image.open(tmp_path / "grid.png").size == (2 * 66 + 2, 2 * 66 + 2)
    printed = capsys.readouterr().out
    assert f"weights: {model_folder.SavedModels(model_folder.SHIPPED_DIR).sampled_generator_path} (shipped)" in printed
    assert "4 faces -> grid.png" in printed


def test_generate_defaults_to_the_newest_run_says_so_and_the_seed_fixes_the_faces(trained_run, tmp_path,
                                                                                   monkeypatch, capsys):
    monkeypatch.chdir(os.path.dirname(os.path.dirname(trained_run)))  # checkpoints/ is found from here
    first, second, third = (str(tmp_path / name) for name in ("a.png", "b.png", "c.png"))
    assert main(["generate", "--n", "9", "--seed", "7", "--out", first, "--out-dir", str(tmp_path / "faces")]) == 0
    assert ("weights: checkpoints/run-a/checkpoint/generator.h5 (saved after epoch 1); the newest run"
            in capsys.readouterr().out)
    assert main(["generate", "--n", "9", "--seed", "7", "--out", second]) == 0
    assert main(["generate", "--n", "9", "--seed", "8", "--out", third]) == 0
    assert Image.open(first).size == (3 * 34 + 2, 3 * 34 + 2)
    assert Image.open(first).tobytes() == Image.open(second).tobytes() != Image.open(third).tobytes()
    singles = sorted(os.listdir(tmp_path / "faces"))
    assert len(singles) == 9 and Image.open(tmp_path / "faces" / singles[0]).size == (32, 32)


def test_generate_takes_a_generator_h5(trained_run, tmp_path):
    generator = model_folder.ModelFolder(trained_run).generator
    assert main(["generate", "--n", "64", "--checkpoint", generator, "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (8 * 34 + 2, 8 * 34 + 2)


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
    (["--n", "0"], "--n must be at least 1"),
])
def test_generate_errors(conditional_run, arguments, message, capsys):
    assert main(["generate", "--checkpoint", conditional_run, *arguments]) == 2
    assert message in capsys.readouterr().err


def test_age_flags_need_a_conditional_checkpoint(trained_run, capsys):
    for flag in (["--age", "60"], ["--age-sweep"]):
        assert main(["generate", "--checkpoint", trained_run, *flag]) == 2
        generator = model_folder.ModelFolder(trained_run).generator
        assert capsys.readouterr().err == (f"error: {generator} is not age-conditional: "
                                           "this needs a model trained with `train.py --conditional`\n")


@pytest.mark.slow
def test_generate_py_keeps_tensorflow_start_up_quiet_unless_asked(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = run_script("generate.py", "--n", "4", cwd=str(tmp_path), env=environment)
    assert quiet.returncode == 0 and len(quiet.stderr.splitlines()) <= 2, quiet.stderr
    assert "cuInit" not in quiet.stderr and "absl::InitializeLog" not in quiet.stderr
    loud = run_script("generate.py", "--n", "4", cwd=str(tmp_path), env={**environment, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert loud.returncode == 0 and "absl::InitializeLog" in loud.stderr, "the user's own setting wins"
    assert os.path.isfile(tmp_path / "samples.png")
