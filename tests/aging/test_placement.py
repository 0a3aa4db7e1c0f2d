"""Putting what aging changed back into the photo: where, how much, and nothing elsewhere."""
import numpy as np
import pytest

from facegan.aging.placement import Placement, add_change, centre_square, crop


@pytest.fixture
def photo():
    return np.random.default_rng(0).integers(40, 216, (300, 400, 3), dtype=np.uint8)


def tilted(feather=0.1):
    """A 120-pixel crop turned by 30 degrees, inside a 400x300 photo."""
    angle = np.radians(30)
    across = (120 * np.cos(angle), 120 * np.sin(angle))
    return Placement((400, 300), (180.0, 60.0), across, (-across[1], across[0]), feather)


def test_no_change_gives_the_photo_back_exactly(photo):
    assert np.array_equal(add_change(photo, tilted(), np.zeros((64, 64, 3), np.float32)), photo)


def test_an_aligned_crop_changes_all_over_at_the_photos_size():
    photo = np.full((200, 200, 3), 100, np.uint8)
    aged = add_change(photo, centre_square(200, 200), np.full((64, 64, 3), 0.2, np.float32))
    assert aged.shape == (200, 200, 3) and np.all(aged == 100 + round(0.2 * 127.5))


def test_the_change_lands_inside_the_crop_fading_at_its_edges(photo):
    where = tilted()
    aged = add_change(photo, where, np.full((64, 64, 3), 0.4, np.float32)).astype(int) - photo
    changed = np.any(aged != 0, axis=-1)
    matrix, offset = where.unit_to_photo()
    rows, columns = np.nonzero(changed)
    units = np.linalg.solve(matrix, np.stack([columns + 0.5, rows + 0.5]) - offset[:, None])
    assert units.min() > -0.02 and units.max() < 1.02, "nothing changes outside the crop"
    centre = np.round(offset + matrix @ [0.5, 0.5]).astype(int)
    assert np.all(aged[centre[1], centre[0]] == 51), "the full change at the face's centre"
    near_edge = np.round(offset + matrix @ [0.5, 0.01]).astype(int)
    assert np.all(np.abs(aged[near_edge[1], near_edge[0]]) <= 5), "faded to a tenth by the crop's edge"


def test_the_change_read_back_through_the_crop_is_the_change(photo):
    """Smooth change -> photo -> crop again: what was added is what the 64x64 change said, turned and all."""
    where = tilted(feather=0)
    ramp = np.linspace(-0.3, 0.3, 64, dtype=np.float32)
    change = np.stack([np.add.outer(ramp, 0 * ramp), np.add.outer(0 * ramp, ramp), np.zeros((64, 64))], -1)
    before = crop(photo, where, 64).astype(float)
    after = crop(add_change(photo, where, change), where, 64).astype(float)
    inner = slice(4, 60)
    error = (after - before)[inner, inner] - change[inner, inner] * 127.5
    assert np.abs(error).mean() < 1.5 and np.abs(change[inner, inner] * 127.5).mean() > 10


def test_a_placement_follows_the_photo_to_another_decoded_size():
    half = tilted().at_size(200, 150)
    assert half.origin == (90.0, 30.0) and np.allclose(half.across, np.divide(tilted().across, 2))


@pytest.mark.parametrize("where", [tilted(), Placement((400, 300), (-60.0, 220.0), (150.0, 0.0), (0.0, 150.0), 0.1)],
                         ids=["inside", "over-the-corner"])
def test_the_change_made_on_the_crops_box_in_bands_is_the_change_made_on_the_whole_photo(photo, where, monkeypatch):
    from facegan.aging import placement

    monkeypatch.setattr(placement, "BAND_PIXELS", 5000)  # bands of a few rows

    change = np.random.default_rng(1).uniform(-0.5, 0.5, (64, 64, 3)).astype(np.float32)
    layers = np.concatenate([np.moveaxis(change, -1, 0), placement._fade(64, where.feather)[None]])
    warped = placement._warp(layers, where, (400, 300))  # the whole frame, as it was made before the box
    whole = np.clip(np.round(photo + np.moveaxis(warped[:3] * warped[3:], 0, -1) * 127.5), 0, 255)
    aged = add_change(photo, where, change).astype(int)
    assert np.abs(aged - whole).max() <= 1 and np.mean(aged != whole) < 1e-3
    assert np.any(aged != photo)
