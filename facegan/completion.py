"""Semantic image completion (Yeh et al., 2017): fill a hole with what the generator would draw there.

Project the face with the hole's pixels weighted 0, so only the known pixels (and D's opinion) choose z; then
keep every known pixel and paste G(z) into the hole, shifted by the mean colour difference along the hole's
rim so that the seam does not show.
"""
import numpy as np
from PIL import Image

from facegan import FaceganError
from facegan.latent import project
from facegan.pixels import in_levels

MASKS = ("center", "left", "right", "top", "bottom", "random")
RANDOM_MISSING = 0.8  # Yeh et al.'s random mask drops 80% of the pixels
NEAR_HOLE_WINDOW = 7  # Yeh et al.'s importance weights look at a 7x7 neighbourhood


def make_mask(kind, image_size, seed=0):
    """1 where the pixel is known, 0 in the hole; (size, size, 1) float32. `kind` is one of MASKS or a PNG
    whose white (bright) pixels mark the hole."""
    known = np.ones((image_size, image_size), np.float32)
    quarter, half = image_size // 4, image_size // 2
    if kind == "center":
        known[quarter:quarter + half, quarter:quarter + half] = 0
    elif kind == "left":
        known[:, :half] = 0
    elif kind == "right":
        known[:, half:] = 0
    elif kind == "top":
        known[:half] = 0
    elif kind == "bottom":
        known[half:] = 0
    elif kind == "random":
        known[np.random.default_rng(seed).random((image_size, image_size)) < RANDOM_MISSING] = 0
    else:
        known = _mask_from_picture(kind, image_size)
    return known[..., None]


def _mask_from_picture(path, image_size):
    try:
        with Image.open(path) as picture:
            grey = picture.convert("L").resize((image_size, image_size), Image.NEAREST)
    except FileNotFoundError:
        raise FaceganError(f"{path}: no such mask file (or use one of {', '.join(MASKS)})") from None
    except (OSError, ValueError) as problem:
        raise FaceganError(f"{path}: not a readable mask picture ({problem})") from None
    known = (np.asarray(grey) < 128).astype(np.float32)
    if known.all():
        raise FaceganError(f"{path}: the mask has no white pixels, so there is no hole to fill")
    if not known.any():
        raise FaceganError(f"{path}: the mask is all white: nothing is known to complete from")
    return known


def near_hole_weights(known):
    """Yeh et al.'s importance weights: a known pixel counts by the share of hole pixels around it, so the rim
    of the hole decides most; hole pixels count 0."""
    hole = 1.0 - known[..., 0]
    radius = NEAR_HOLE_WINDOW // 2
    padded = np.pad(hole, radius)
    summed = sum(padded[dy:dy + hole.shape[0], dx:dx + hole.shape[1]]
                 for dy in range(NEAR_HOLE_WINDOW) for dx in range(NEAR_HOLE_WINDOW))
    return (known[..., 0] * summed / NEAR_HOLE_WINDOW ** 2)[..., None].astype(np.float32)


def blend(face, filled, known):
    """Known pixels exactly as they were; the hole from `filled`, shifted to the colour of the rim."""
    rim = near_hole_weights(known)
    if rim.sum() > 0:
        offset = ((face - filled) * rim).sum(axis=(0, 1)) / rim.sum()
        filled = np.clip(filled + offset, -1.0, 1.0)
    return known * face + (1.0 - known) * filled


def complete(generator, discriminator, faces, known, weighting="uniform", **projection_settings):
    """Completed faces and their projection. `known` is (n, size, size, 1), 1 for known pixels."""
    if weighting == "uniform":
        weights = known
    elif weighting == "near-hole":
        weights = np.stack([near_hole_weights(mask) for mask in known])
    else:
        raise FaceganError(f"unknown weighting {weighting!r}: use uniform or near-hole")
    projection = project(generator, discriminator, faces, weights, **projection_settings)
    completed = np.stack([blend(face, filled, mask)
                          for face, filled, mask in zip(faces, projection.reconstructions, known)])
    return completed, projection


def hole_errors(completed, faces, known):
    """Mean absolute error inside each face's hole, in 0-255 grey levels: how well the hole was guessed."""
    hole = 1.0 - np.asarray(known)
    return in_levels((np.abs(completed - faces) * hole).sum(axis=(1, 2, 3)) / (3 * hole.sum(axis=(1, 2, 3))))
