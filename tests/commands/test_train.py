"""`facegan train` (train.py): one-line errors for nonsense, the rules of --resume, grouped help."""
import os
import shutil

import numpy as np
import pytest

from facegan.cli import main
from facegan.gan.config import DEFAULTS
from facegan.io import checkpoints, model_folder

from tests.conftest import run_script, write_faces

TINY_FLAGS = ["--image-size", "32", "--filters", "4", "--batch-size", "8"]


def our_error(stderr):
    """Our message is the last line."""
    assert "Traceback" not in stderr
    return stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("arguments, message", [
    (["--epochs", "-1"], "--epochs must be at least 1"),
    (["--image-size", "48"], "--image-size 48 is not supported"),
    (["--batch-size", "500"], "--batch-size 500 is larger than the 16 usable images"),
    (["--data", "/no/such/folder"], "/no/such/folder: no such folder"),
    (["--exclude", "/no/such/held"], "/no/such/held: no such folder (--exclude names a folder of held-out faces)"),
    (["--real-label", "0.3"], "--real-label must be in (0.5, 1]"),
    (["--generator-steps", "0"], "--generator-steps at least 1"),
    (["--ema", "1"], "--ema must be in [0, 1)"),
    (["--ema", "0.999", "--model", "vae"], "goes with GAN runs only"),
    (["--mismatched-ages"], "--mismatched-ages teaches D the age groups; it goes with --conditional"),
    (["--save-every", "-1"], "--save-every must be 0 (epoch ends only) or more steps, not -1"),
    (["--distribute", "mirrored", "--model", "vae"], "for GAN runs"),
])
def test_nonsense_arguments_are_one_line_errors(arguments, message, tmp_path, capsys):
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


def test_the_help_groups_the_flags_and_shows_the_defaults_of_training(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    headings = [line.rstrip(":") for line in help_text.splitlines() if line.endswith(":") and not line[0].isspace()]
    assert headings[-6:] == ["data", "model", "optimiser", "hardware",
                             "stabilisers (all off by default: the plain recipe)", "output"]
    flat = " ".join(help_text.split())
    assert f"Adam learning rate (default: {DEFAULTS['learning_rate']})" in flat
    epochs = DEFAULTS["epochs"]
    assert f"epochs to train in all (with --resume: the total to reach) (default: {epochs})" in flat
    assert "--save-every STEPS also save a checkpoint every STEPS steps within an epoch" in flat
    assert "0 is off: at epoch ends only (default: 0)" in flat
    assert "--batch-size is then the global batch (docs/distributed.md) (default: none)" in flat


def test_train_py_exits_2_with_one_line_for_a_folder_without_images(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_script("train.py", "--data", str(tmp_path / "empty"), cwd=str(tmp_path))
    assert result.returncode == 2
    assert our_error(result.stderr) == f"error: {tmp_path / 'empty'}: no images found (looked for .jpg, .jpeg, " \
                                       ".png, .bmp, .webp)"


def test_a_run_with_a_checkpoint_is_not_overwritten_without_resume(trained_run, capsys):
    assert main(["train", "--out", trained_run]) == 2
    assert "add --resume" in capsys.readouterr().err


def test_resume_keeps_the_shape_of_the_networks_and_refuses_init_from(trained_run, capsys):
    assert main(["train", "--resume", "--out", trained_run, "--filters", "8"]) == 2
    assert "trained with --filters 4; it cannot change on --resume" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", trained_run, "--init-from", trained_run]) == 2
    assert "--init-from starts a new run" in capsys.readouterr().err


def test_init_from_needs_a_folder_with_both_models(face_folder, tmp_path, capsys):
    assert main(["train", "--data", face_folder, "--init-from", str(tmp_path / "nowhere"),
                 "--out", str(tmp_path / "other")]) == 2
    assert "--init-from needs a folder with generator.h5 and discriminator.h5" in capsys.readouterr().err


def test_init_from_a_damaged_pair_is_one_line_naming_the_file(face_folder, tmp_path, capsys):
    init = tmp_path / "init"
    init.mkdir()
    with open(os.path.join(model_folder.SHIPPED_DIR, model_folder.GENERATOR_FILE), "rb") as f:
        truncated = f.read()[:20000]
    for name in (model_folder.GENERATOR_FILE, model_folder.DISCRIMINATOR_FILE):
        (init / name).write_bytes(truncated)
    assert main(["train", "--data", face_folder, *TINY_FLAGS, "--init-from", str(init),
                 "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {init / 'generator.h5'}: a damaged or truncated .h5 (") and error.count("\n") == 1


@pytest.mark.slow
def test_a_setting_added_on_resume_stays_for_the_next_resume_and_the_resumed_weights_are_named(trained_run,
                                                                                                tmp_path, capsys):
    run = str(tmp_path / "run")
    shutil.copytree(trained_run, run)  # a run of 1 epoch with TINY_FLAGS, shared with other tests
    assert model_folder.read_config(run)["ema"] == 0
    assert main(["train", "--resume", "--out", run, "--epochs", "2", "--ema", "0.9"]) == 0
    assert "generator.h5 (saved after epoch 1), resumed" in capsys.readouterr().out
    assert model_folder.read_config(run)["ema"] == 0.9
    after_two = [w.numpy() for w in checkpoints.load_model_h5(model_folder.ModelFolder(run).generator).weights]
    assert main(["train", "--resume", "--out", run, "--epochs", "3"]) == 0
    after_three = checkpoints.load_model_h5(model_folder.ModelFolder(run).generator).weights
    assert model_folder.ModelFolder(run).generator.endswith(model_folder.EMA_GENERATOR_FILE)
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(after_two, after_three))


def test_exclude_trains_on_the_faces_not_named_in_the_held_out_folder(tmp_path, capsys):
    faces = write_faces(str(tmp_path / "faces"), 24)
    held_out = write_faces(str(tmp_path / "held"), 8)  # the same names as the first 8
    assert main(["train", "--data", faces, "--exclude", held_out, "--out", str(tmp_path / "run"), "--epochs", "1",
                 *TINY_FLAGS]) == 0
    assert f"training on 16 faces from {faces}" in capsys.readouterr().out
    assert model_folder.read_config(str(tmp_path / "run"))["exclude"] == held_out
