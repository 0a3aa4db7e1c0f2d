"""Completion: masks, Yeh et al.'s weights, and a blend that never touches a known pixel."""
import keras
import numpy as np
import pytest
from PIL import Image

from facegan import FaceganError
from facegan.gan.models import build_discriminator, build_generator
from facegan.latent.inpainting import MASKS, blend, complete, make_mask, near_hole_weights

from tests.conftest import TINY


@pytest.mark.parametrize("kind, hole_share", [("center", 0.25), ("left", 0.5), ("right", 0.5), ("top", 0.5),
                                              ("bottom", 0.5), ("random", 0.8)])
def test_masks_hide_what_their_name_says(kind, hole_share):
    known = make_mask(kind, 32)
    assert known.shape == (32, 32, 1) and set(np.unique(known)) == {0.0, 1.0}
    assert 1 - known.mean() == pytest.approx(hole_share, abs=0.02)
    assert set(MASKS) >= {kind}
    sides = {"left": known[:, :16], "right": known[:, 16:], "top": known[:16], "bottom": known[16:],
             "center": known[8:24, 8:24]}
    if kind in sides:
        assert not sides[kind].any()


def test_a_mask_picture_marks_the_hole_in_white(tmp_path):
    picture = np.zeros((100, 100), np.uint8)
    picture[:50] = 255
    Image.fromarray(picture).save(tmp_path / "mask.png")
    known = make_mask(str(tmp_path / "mask.png"), 32)
    assert not known[:16].any() and known[16:].all()
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "black.png")
    with pytest.raises(FaceganError, match="black.png: the mask has no white pixels"):
        make_mask(str(tmp_path / "black.png"), 32)
    with pytest.raises(FaceganError, match="nowhere.png: no such mask file"):
        make_mask(str(tmp_path / "nowhere.png"), 32)


def test_near_hole_weights_are_zero_in_the_hole_and_far_from_it():
    weights = near_hole_weights(make_mask("center", 32))[..., 0]
    assert not weights[8:24, 8:24].any(), "hole pixels never count"
    assert weights[7, 16] > weights[5, 16] > 0, "the rim counts most"
    assert weights[0, 0] == 0, "far from the hole, nothing"


def test_blend_keeps_every_known_pixel_and_takes_out_a_smooth_colour_error():
    rng = np.random.default_rng(0)
    face = rng.uniform(-0.5, 0.5, (32, 32, 3)).astype(np.float32)
    column = np.arange(32, dtype=np.float32)[None, :, None]
    # right content, but too dark (more so to the left, in a hole that has known pixels on every side)
    for kind, colour_error in (("center", 0.01 * column - 0.3), ("left", -0.3)):
        known = make_mask(kind, 32)
        filled = face + colour_error
        result = blend(face, filled, known)
        assert np.array_equal(result[known[..., 0] == 1], face[known[..., 0] == 1])
        hole = known[..., 0] == 0
        assert np.abs(result[hole] - face[hole]).max() < 0.02, f"{kind}: the colour error is taken out"
    known = make_mask("center", 32)
    ramp_error = 0.01 * column - 0.16
    mean_shift = face + ramp_error - (ramp_error * near_hole_weights(known)).sum() / near_hole_weights(known).sum()
    assert np.abs(mean_shift - face)[8:24, 8:24].max() > 0.05, "a mean colour shift alone could not"


def test_completes_a_face_the_generator_can_draw():
    keras.utils.set_random_seed(3)
    generator, discriminator = build_generator(**TINY), build_discriminator(**TINY)
    face = generator.predict(np.full((1, 100), -0.4, np.float32), verbose=0)
    known = make_mask("center", 32)[None]
    spoiled = face * known  # the hole greyed out
    for weighting in ("uniform", "near-hole"):
        completed, projection = complete(generator, discriminator, spoiled, known, weighting, steps=150,
                                         perceptual_weight=0.0, restarts=2)
        assert np.array_equal(completed[known[..., 0] == 1], spoiled[known[..., 0] == 1])
        hole_error = 127.5 * np.abs(completed - face)[:, 8:24, 8:24].mean()
        grey_error = 127.5 * np.abs(spoiled - face)[:, 8:24, 8:24].mean()
        assert hole_error < grey_error / 3, f"{weighting}: {hole_error:.1f} vs {grey_error:.1f} levels"
