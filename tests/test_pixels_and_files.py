"""Pixel conversion between files and networks, and atomic file writing."""
import os

import numpy as np
import pytest

from facegan.files import replaced_atomically
from facegan.pixels import in_levels, to_uint8, to_unit


def test_uint8_pixels_survive_the_round_trip_through_the_networks_scale():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    unit = to_unit(pixels)
    assert unit.dtype == np.float32 and unit.min() == -1.0 and unit.max() == 1.0
    np.testing.assert_array_equal(to_uint8(unit), pixels)
    assert to_uint8(np.array([-3.0, 3.0])).tolist() == [0, 255]
    assert in_levels(2.0) == 255.0


def test_a_file_appears_whole_or_not_at_all(tmp_path):
    path = str(tmp_path / "deep" / "table.csv")
    with replaced_atomically(path) as temporary:
        assert temporary.endswith(".csv") and os.path.dirname(temporary) == os.path.dirname(path)
        with open(temporary, "w") as f:
            f.write("first\n")
        assert not os.path.exists(path)
    assert open(path).read() == "first\n"
    with pytest.raises(RuntimeError):
        with replaced_atomically(path) as temporary:
            with open(temporary, "w") as f:
                f.write("half")
            raise RuntimeError("killed while writing")
    assert open(path).read() == "first\n" and os.listdir(tmp_path / "deep") == ["table.csv"]
