"""Atomic file writing: a file appears whole or not at all."""
import os

import pytest

from facegan.io.files import replaced_atomically


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
