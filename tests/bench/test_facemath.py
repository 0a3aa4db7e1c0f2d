"""bench/facemath.py: its --completion rows, and that "defaults" is what `facegan complete` runs by default."""
import argparse
import os
import sys

import pytest

from facegan.commands import complete
from tests.conftest import REPO

sys.path.insert(0, os.path.join(REPO, "bench"))
import facemath  # noqa: E402


def test_a_completion_row_says_its_steps_refining_steps_and_weighting():
    assert facemath.completion_setting("60+100:uniform") == (60, 100, "uniform")
    assert facemath.completion_setting("former") == "former"
    defaults = facemath.complete_defaults()
    label, settings = facemath.completion_row((60, 100, "uniform"), "E", defaults)
    assert settings == {"encoder": "E", "steps": 60, "refine_steps": 100, "weighting": "uniform"}
    assert "defaults" not in label
    assert facemath.completion_row((60, 100, "uniform"), None, defaults) is None, "needs the encoder"
    for text in ("30+x:near-hole", "30+30", "30+30:nearest"):
        with pytest.raises(ValueError, match="STEPS"):
            facemath.completion_setting(text)


def test_the_defaults_row_is_what_complete_runs_by_default():
    parser = argparse.ArgumentParser()
    complete.add_arguments(parser)
    args = parser.parse_args(["FACE"])
    expected = (facemath.STEPS_FROM_ENCODER, args.refine_steps, args.weighting)
    assert args.steps is None and facemath.completion_setting("defaults") == expected
    assert facemath.completion_row(expected, "E", expected)[0].startswith("**defaults")
