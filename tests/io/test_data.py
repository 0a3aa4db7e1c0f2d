import os

import numpy as np
import pytest
from PIL import Image

from facegan import FaceganError
from facegan.io.data import find_images, load_faces, read_face

from tests.conftest import REPO, write_faces


def save(folder, name, image, **options):
    path = os.path.join(folder, name)
    image.save(path, **options)
    return path


def test_every_image_below_the_folder_is_found_in_a_stable_order(tmp_path):
    for sub in ("a", "b/c"):
        write_faces(str(tmp_path / sub), 2)
    save(str(tmp_path), "x.PNG", Image.new("RGB", (8, 8)))
    (tmp_path / "notes.txt").write_text("not an image")
    found = find_images(str(tmp_path))
    assert len(found) == 5 and found == sorted(found)


def test_the_files_named_in_the_exclude_folder_are_left_out(tmp_path):
    faces = write_faces(str(tmp_path / "all"), 6)
    held_out = tmp_path / "held"
    held_out.mkdir()
    names = sorted(os.listdir(faces))
    for name in names[1:3]:
        (held_out / name).write_bytes(b"")  # only the names count
    assert [os.path.basename(path) for path in find_images(faces, str(held_out))] == names[:1] + names[3:]
    assert len(load_faces(faces, 32, cache_dir=str(tmp_path / "cache"), progress=False, exclude=str(held_out))) == 4
    assert len(load_faces(faces, 32, cache_dir=str(tmp_path / "cache"), progress=False)) == 6  # not the cached 4
    with pytest.raises(FaceganError, match="nowhere: no such folder"):
        find_images(faces, str(tmp_path / "nowhere"))


@pytest.mark.parametrize("mode, colour", [("L", 128), ("RGBA", (255, 0, 0, 255)), ("CMYK", (0, 255, 255, 0)),
                                          ("P", 3), ("LA", (128, 255))])
def test_any_colour_mode_becomes_rgb(tmp_path, mode, colour):
    extension = {"CMYK": "jpg", "P": "png", "LA": "png", "L": "bmp", "RGBA": "webp"}[mode]
    path = save(str(tmp_path), f"face.{extension}", Image.new(mode, (50, 40), colour))
    face = read_face(path, 32)
    assert face.shape == (32, 32, 3) and face.dtype == np.uint8


def test_16_bit_grey_keeps_its_levels_instead_of_clipping(tmp_path):
    levels = np.full((40, 40), 32768, np.uint16)  # mid-grey in 16 bits
    path = save(str(tmp_path), "deep.png", Image.fromarray(levels))
    assert Image.open(path).mode.startswith("I")
    assert abs(int(read_face(path, 32).mean()) - 128) <= 1


def test_the_exif_orientation_is_honoured(tmp_path):
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:, :40] = 255  # left half white, as stored
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(str(tmp_path), "rotated.jpg", image, exif=exif, quality=95)
    face = read_face(path, 32).astype(int)
    assert face[:4].mean() > 200 and face[-4:].mean() < 50, "white ends up on top once rotated"


def test_a_rectangle_is_centre_cropped_to_a_square(tmp_path):
    pixels = np.zeros((40, 120, 3), np.uint8)
    pixels[:, 40:80] = 255  # only the centre square is white
    face = read_face(save(str(tmp_path), "wide.png", Image.fromarray(pixels)), 32)
    assert face.min() > 240


def test_bad_files_are_skipped_counted_and_named(tmp_path, capsys):
    folder = write_faces(str(tmp_path / "faces"), 3)
    open(os.path.join(folder, "empty.jpg"), "wb").close()
    with open(os.path.join(folder, "text.png"), "w") as f:
        f.write("this is not a picture")
    good = open(os.path.join(folder, sorted(os.listdir(folder))[0]), "rb").read()
    with open(os.path.join(folder, "truncated.jpg"), "wb") as f:
        f.write(good[: len(good) // 2])
    Image.new("L", (9000, 9000)).save(os.path.join(folder, "bomb.png"))  # 81 Mpx of zeros, a few KB
    faces = load_faces(folder, 32, progress=False)
    assert len(faces) == 3
    reasons = {os.path.basename(path): reason for path, reason in faces.skipped}
    assert set(reasons) == {"empty.jpg", "text.png", "truncated.jpg", "bomb.png"}
    assert "empty" in reasons["empty.jpg"] and "not an image" in reasons["text.png"]
    assert "too large" in reasons["bomb.png"]
    faces.warn_about_skipped()
    warning = capsys.readouterr().out.strip()
    assert warning.count("\n") == 0 and "skipped 4" in warning and "truncated.jpg" in warning


def test_a_missing_or_imageless_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FaceganError, match="no such folder"):
        load_faces(str(tmp_path / "nowhere"), 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FaceganError, match="no images found"):
        load_faces(str(tmp_path / "empty"), 32)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.jpg").write_text("no")
    with pytest.raises(FaceganError, match="none of the 1 files"):
        load_faces(str(tmp_path / "broken"), 32)


def test_batches_are_scaled_to_minus_one_one(face_folder):
    faces = load_faces(face_folder, 32, progress=False)
    batch = faces.batch(np.array([3, 0, 5]))
    assert batch.dtype == np.float32 and batch.shape == (3, 32, 32, 3)
    assert batch.min() >= -1 and batch.max() <= 1
    np.testing.assert_allclose(batch[0], faces.images[3] / 127.5 - 1, atol=1e-6)


def test_the_cache_is_reused_and_invalidated_when_the_folder_changes(face_folder, monkeypatch):
    first = load_faces(face_folder, 32, progress=False)
    monkeypatch.setattr("facegan.io.data.read_face", lambda *a: pytest.fail("decoded again despite the cache"))
    second = load_faces(face_folder, 32, progress=False)
    assert np.array_equal(first.images, second.images) and first.files == second.files
    monkeypatch.undo()
    write_faces(face_folder, 25, seed=1)  # one file more, and the others rewritten
    third = load_faces(face_folder, 32, progress=False)
    assert len(third) == 25 and not np.array_equal(third.images[:24], first.images)


def test_the_bundled_sample_is_2000_utkface_faces_with_their_terms():
    files = [f for f in os.listdir(os.path.join(REPO, "data")) if f.endswith(".jpg.chip.jpg")]
    assert len(files) == 2000
    assert all(0 < int(name.split("_")[0]) <= 116 for name in files)
    terms = open(os.path.join(REPO, "data", "README.md")).read()
    assert "non-commercial research" in terms and "copyright" in terms


def test_ages_come_from_utkface_names_and_bad_ones_are_skipped(tmp_path):
    from facegan.io.data import read_ages

    files = [str(tmp_path / name) for name in ("25_0_0_1.jpg.chip.jpg", "130_0_0_2.jpg", "face.jpg", "7_x.png")]
    ages, problems = read_ages(str(tmp_path), files)
    assert ages == [25, None, None, 7]
    assert problems == [(files[1], "age 130 is outside 0-120"),
                        (files[2], "no age in the file name (AGE_...) and no labels.csv")]


def test_a_labels_csv_beside_the_images_wins_over_the_names(tmp_path):
    from facegan.io.data import read_ages

    (tmp_path / "labels.csv").write_text("file,age\nsub/a.jpg,61\n25_b.jpg,old\n")
    files = [str(tmp_path / "sub" / "a.jpg"), str(tmp_path / "25_b.jpg"), str(tmp_path / "30_c.jpg")]
    ages, problems = read_ages(str(tmp_path), files)
    assert ages == [61, None, None]
    assert [why for _, why in problems] == ["age 'old' is not a number", "no row in labels.csv"]
    (tmp_path / "labels.csv").write_text("name,years\na.jpg,3\n")
    with pytest.raises(FaceganError, match="labels.csv: needs the columns file,age"):
        read_ages(str(tmp_path), files)


def test_with_ages_keeps_only_faces_with_an_age_and_counts_the_others(tmp_path):
    folder = write_faces(str(tmp_path / "faces"), 5)
    Image.new("RGB", (40, 40)).save(os.path.join(folder, "no_age.png"))
    faces = load_faces(folder, 32, progress=False).with_ages(folder)
    assert len(faces) == 5 and list(faces.ages) == [20, 21, 22, 23, 24]
    assert faces.skipped[-1][0].endswith("no_age.png") and len(faces.images) == 5
