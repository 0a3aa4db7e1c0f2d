"""The face-math commands, project, math, interpolate and complete: their outputs, their one-line errors, and
that they use the shipped model unless --checkpoint names a run."""
import os
import shutil

import keras
import numpy as np
import pytest
from PIL import Image

from facegan.cli import main
from facegan.io import model_folder
from facegan.io.pixels import to_uint8

QUICK = ["--steps", "3", "--restarts", "1"]


def test_project_writes_codes_reconstructions_strips_and_errors(trained_run, photos, tmp_path, capsys):
    out = tmp_path / "z"
    assert main(["project", str(photos / "alice"), "--checkpoint", trained_run, "--out", str(out), *QUICK]) == 0
    printed = capsys.readouterr().out
    assert "skipped 1 unusable file(s): broken.jpg" in printed and "3 face(s), mean pixel error" in printed
    assert f"z vectors, reconstructions and errors.csv -> {out}{os.sep}\n" in printed
    names = sorted(f for f in os.listdir(photos / "alice") if f != "broken.jpg")
    for name in names:
        assert np.load(out / f"{name}.npy").shape == (100,)
        assert Image.open(out / f"{name}.png").size == (32, 32)
        assert Image.open(out / f"{name}.strip.png").size == (3 * 34 + 2, 34 + 2), "original | G(z) | refined"
    rows = (out / "errors.csv").read_text().splitlines()
    assert rows[0] == "file,mean_pixel_error" and len(rows) == 4
    assert all(0 <= float(row.split(",")[1]) <= 255 for row in rows[1:])


def test_after_training_a_run_of_your_own_project_still_uses_the_shipped_model(trained_run, photos, monkeypatch,
                                                                              capsys):
    monkeypatch.chdir(os.path.dirname(os.path.dirname(trained_run)))  # checkpoints/run-a is the newest run here
    assert main(["project", str(photos / "bob"), "--steps", "1", "--restarts", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"weights: {model_folder.SavedModels(model_folder.SHIPPED_DIR).sampled_generator_path} (shipped)" in printed
    assert main(["project", str(photos / "bob"), "--checkpoint", "checkpoints/run-a", *QUICK]) == 0
    assert "weights: checkpoints/run-a/checkpoint/generator.h5 (saved after epoch 1)" in capsys.readouterr().out


def test_math_on_saved_codes_is_exact_and_draws_the_result(trained_run, photos, tmp_path):
    out = tmp_path / "z"
    assert main(["project", str(photos / "alice"), "--checkpoint", trained_run, "--out", str(out), *QUICK]) == 0
    codes = sorted(str(out / f) for f in os.listdir(out) if f.endswith(".npy"))
    expression = f"mean({out}/*) - {codes[0]} + 0.5 * {codes[1]}"
    assert main(["math", expression, "--checkpoint", trained_run, "--out", str(tmp_path / "r.png")]) == 0
    expected = np.mean([np.load(c) for c in codes], axis=0) - np.load(codes[0]) + 0.5 * np.load(codes[1])
    assert np.allclose(np.load(tmp_path / "r.npy"), expected, atol=1e-6)
    generator = keras.models.load_model(model_folder.ModelFolder(trained_run).generator)
    drawn = np.asarray(Image.open(tmp_path / "r.png"), np.int16)
    assert np.abs(drawn - to_uint8(generator.predict(expected[None], verbose=0))[0]).max() <= 1
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
    assert main(["interpolate", *ends, "--frames", "5", "--method", "cube", "--checkpoint", trained_run,
                 "--out", str(tmp_path / out)]) == 0
    assert check(tmp_path / out)


def test_interpolate_projects_images_with_the_projection_steps(trained_run, photos, tmp_path, capsys):
    ends = sorted(str(photos / "bob" / name) for name in os.listdir(photos / "bob"))
    assert main(["interpolate", *ends, "--frames", "3", "--checkpoint", trained_run, "--out",
                 str(tmp_path / "m.png"), *QUICK]) == 0
    assert "projected 2 face(s)" in capsys.readouterr().out
    assert Image.open(tmp_path / "m.png").size == (3 * 34 + 2, 34 + 2)


def test_complete_keeps_the_known_pixels(trained_run, photos, tmp_path):
    out = tmp_path / "done"
    assert main(["complete", str(photos / "bob"), "--mask", "left", "--checkpoint", trained_run,
                 "--out", str(out), *QUICK]) == 0
    from facegan.io.data import read_face

    for name in os.listdir(photos / "bob"):
        original = read_face(str(photos / "bob" / name), 32)
        completed = np.asarray(Image.open(out / f"{name}.png"))
        assert np.array_equal(completed[:, 16:], original[:, 16:])
        assert not np.array_equal(completed[:, :16], original[:, :16])
        assert Image.open(out / f"{name}.strip.png").size == (3 * 34 + 2, 34 + 2)


@pytest.mark.parametrize("command", [
    ["project", "/no/such/photo.jpg"], ["math", "/no/such/photo.jpg"], ["interpolate", "/no/a.jpg", "/no/b.jpg"],
    ["complete", "/no/such/photo.jpg"], ["complete", "PHOTOS", "--mask", "/no/mask.png"],
    ["project", "PHOTOS", "--steps", "0"], ["math", "a.jpg +"], ["interpolate", "a.npy", "b.npy", "--frames", "1"],
])
def test_face_math_commands_fail_in_one_line(trained_run, photos, command, capsys):
    command = [str(photos / "bob") if part == "PHOTOS" else part for part in command]
    assert main([*command, "--checkpoint", trained_run]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "\n" not in error


def test_projection_needs_the_discriminator_beside_the_generator(trained_run, tmp_path, photos, capsys):
    alone = tmp_path / "generator.h5"
    shutil.copy(model_folder.ModelFolder(trained_run).generator, alone)
    assert main(["project", str(photos / "bob"), "--checkpoint", str(alone)]) == 2
    assert "discriminator.h5: missing" in capsys.readouterr().err


def test_face_math_needs_an_unconditional_checkpoint(conditional_run, photos, capsys):
    assert main(["project", str(photos / "bob"), "--checkpoint", conditional_run]) == 2
    assert "is age-conditional" in capsys.readouterr().err


def test_train_encoder_serves_a_plain_run_whose_projections_then_start_from_it(trained_run, photos, tmp_path,
                                                                             capsys, monkeypatch):
    from facegan.io import weights
    from facegan.latent import inpainting, projection

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    assert main(["project", str(photos / "bob"), "--checkpoint", str(run), *QUICK]) == 0
    assert f"latent encoder: none ({model_folder.ENCODER_FILE})" in capsys.readouterr().out
    assert main(["train-encoder", "--checkpoint", str(run), "--encoder-steps", "5", "--filters", "4"]) == 0
    printed = capsys.readouterr().out
    assert f"weights: {run}/checkpoint/generator.h5" in printed and "mean squared z error by tenths" in printed
    loaded = weights.load_model_h5(str(run / model_folder.ENCODER_FILE), "encoder")
    assert loaded.output_shape == (None, 100) and loaded.input_shape == (None, 32, 32, 3)

    starts = []
    real_project = projection.project
    def recording(*arguments, **settings):
        starts.append(settings["encoder"])
        return real_project(*arguments, **settings)
    monkeypatch.setattr(projection, "project", recording)
    monkeypatch.setattr(inpainting, "project", recording)
    assert main(["project", str(photos / "bob"), "--checkpoint", str(run), *QUICK]) == 0
    assert main(["complete", str(photos / "bob"), "--checkpoint", str(run), "--out", str(tmp_path / "done"),
                 *QUICK]) == 0
    assert f"latent encoder: {run}/{model_folder.ENCODER_FILE}" in capsys.readouterr().out
    assert len(starts) == 2 and all(start is not None for start in starts)


def test_the_projection_help_states_both_defaults(capsys):
    from facegan.latent import defaults

    with pytest.raises(SystemExit):
        main(["project", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert (f"(default: {defaults.STEPS_FROM_ENCODER} from the latent encoder's guess when the checkpoint has "
            f"latent_encoder.h5, else {defaults.STEPS})") in shown
    assert f"(default: {defaults.RESTARTS_FROM_ENCODER} with an encoder, else {defaults.RESTARTS})" in shown


def test_project_refines_the_reconstruction_but_keeps_the_z_it_found(trained_run, photos, tmp_path):
    common = [str(photos / "alice"), "--checkpoint", trained_run, *QUICK]
    assert main(["project", *common, "--out", str(tmp_path / "z"), "--refine-steps", "0"]) == 0
    assert main(["project", *common, "--out", str(tmp_path / "refined"), "--refine-steps", "5"]) == 0
    name = sorted(f for f in os.listdir(photos / "alice") if f != "broken.jpg")[0]
    assert np.array_equal(np.load(tmp_path / "z" / f"{name}.npy"), np.load(tmp_path / "refined" / f"{name}.npy"))
    assert Image.open(tmp_path / "z" / f"{name}.strip.png").size == (2 * 34 + 2, 34 + 2), "original | G(z)"

    def errors(folder):
        return [float(row.split(",")[1]) for row in (folder / "errors.csv").read_text().splitlines()[1:]]
    assert all(refined < alone for refined, alone in zip(errors(tmp_path / "refined"), errors(tmp_path / "z")))


def test_a_negative_refine_steps_is_refused_in_one_line(trained_run, photos, capsys):
    assert main(["project", str(photos / "alice"), "--checkpoint", trained_run, "--refine-steps", "-1"]) == 2
    assert "--refine-steps must be 0 or more, not -1" in capsys.readouterr().err
