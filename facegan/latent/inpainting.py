"""Semantic image completion (Yeh et al., 2017): fill a hole with what the generator would draw there.

Project the face with the hole's pixels weighted 0, so only the known pixels (and D's opinion) choose z; then
keep every known pixel and blend G(z) into the hole as Yeh et al. do, by Poisson blending (Perez et al., 2003):
the hole takes G(z)'s gradients and the known rim's colours, so that no seam shows. With `refine_steps`
(`facegan complete`'s default), the fill is drawn from G's feature map refined on the known pixels
(facegan.latent.projection).
"""
import numpy as np
from PIL import Image

from facegan import FaceganError
from facegan.io.pixels import in_levels
from facegan.latent.projection import project

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


def _neighbour_sum(images):
    """Sum of each pixel's 4 neighbours, counting pixels outside the picture as 0."""
    padded = np.pad(images, ((1, 1), (1, 1), (0, 0)))
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def blend(face, filled, known, tolerance=1e-4, max_iterations=1000):
    """Known pixels exactly as they were; the hole is `filled` plus the smooth (harmonic) correction that meets
    the known pixels at the rim: Poisson blending, solved by conjugate gradients."""
    hole = 1.0 - known
    neighbours = _neighbour_sum(np.ones_like(known))  # 4, fewer along the picture's edge

    def laplacian_in_hole(correction):
        return hole * (neighbours * correction - _neighbour_sum(hole * correction))

    right_side = hole * _neighbour_sum(known * (face - filled))
    correction, residual = np.zeros_like(face), right_side.copy()
    direction, residual_norm = residual.copy(), float((residual ** 2).sum())
    goal = tolerance ** 2 * residual_norm
    for _ in range(max_iterations):
        if residual_norm <= goal:
            break
        pushed = laplacian_in_hole(direction)
        step = residual_norm / float((direction * pushed).sum())
        correction += step * direction
        residual -= step * pushed
        residual_norm, previous = float((residual ** 2).sum()), residual_norm
        direction = residual + (residual_norm / previous) * direction
    return known * face + hole * np.clip(filled + correction, -1.0, 1.0)


def complete(generator, discriminator, faces, known, weighting="near-hole", **projection_settings):
    """Completed faces and their projection. `known` is (n, size, size, 1), 1 for known pixels."""
    if weighting == "uniform":
        weights = known
    elif weighting == "near-hole":
        weights = np.stack([near_hole_weights(mask) for mask in known])
    else:
        raise FaceganError(f"unknown weighting {weighting!r}: use uniform or near-hole")
    projection = project(generator, discriminator, faces, weights, known=known, **projection_settings)
    completed = np.stack([blend(face, filled, mask)
                          for face, filled, mask in zip(faces, projection.reconstructions, known)])
    return completed, projection


def hole_errors(completed, faces, known):
    """Mean absolute error inside each face's hole, in 0-255 grey levels: how well the hole was guessed."""
    hole = 1.0 - np.asarray(known)
    return in_levels((np.abs(completed - faces) * hole).sum(axis=(1, 2, 3)) / (3 * hole.sum(axis=(1, 2, 3))))
