"""Pixels as files hold them (uint8, 0-255) and as the networks see them (float32 in [-1, 1], G's tanh range)."""
import numpy as np

LEVELS_PER_UNIT = 127.5  # one unit of the [-1, 1] scale in 0-255 grey levels


def to_unit(pixels):
    """uint8 pixels -> float32 in [-1, 1]."""
    return np.asarray(pixels).astype(np.float32) / LEVELS_PER_UNIT - 1.0


def to_uint8(images):
    """[-1, 1] floats -> uint8 pixels, rounded and clipped."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * LEVELS_PER_UNIT), 0, 255).astype(np.uint8)


def in_levels(difference):
    """A difference (or error) on the [-1, 1] scale in 0-255 grey levels, as errors are reported."""
    return LEVELS_PER_UNIT * np.asarray(difference)
