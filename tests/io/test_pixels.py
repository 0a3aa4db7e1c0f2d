"""Pixel conversion between files (uint8) and networks ([-1, 1])."""
import numpy as np

from facegan.io.pixels import in_levels, to_uint8, to_unit


def test_uint8_pixels_survive_the_round_trip_through_the_networks_scale():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    unit = to_unit(pixels)
    assert unit.dtype == np.float32 and unit.min() == -1.0 and unit.max() == 1.0
    np.testing.assert_array_equal(to_uint8(unit), pixels)
    assert to_uint8(np.array([-3.0, 3.0])).tolist() == [0, 255]
    assert in_levels(2.0) == 255.0
