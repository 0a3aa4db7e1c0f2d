"""bench/fid_by_images.py --fit: a curve's pace per doubling of images, and the images each target still needs."""
import argparse
import os
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, os.path.join(REPO, "bench"))
import fid_by_images  # noqa: E402


def _curve(tmp_path, label, points):
    path = tmp_path / "fid.csv"
    path.write_text("label,flags,start,images,n,fid,kid,kid_std\n" + "".join(
        f"{label},,s,{images},1000,{score},0.02,0.001\n" for images, score in points)
        + "other,,s,100,1000,99,0.1,0.001\n")
    return str(path)


def test_a_curve_that_falls_4_per_doubling_needs_its_doublings_more_images(tmp_path):
    # FID 60 at 1M images from scratch, 4 lower at each doubling: 40 at 32M, 30 at 181M
    offset = 500_000
    points = [(images - offset, 60 - 4 * (i)) for i, images in enumerate([1_000_000, 2_000_000, 4_000_000])]
    slope, error, needs = fid_by_images.fit(_curve(tmp_path, "run", points), "run", {"s": offset}, [40, 30])
    assert slope == pytest.approx(-4) and error == pytest.approx(0, abs=1e-6)
    (forty, more, fast, slow), (thirty, more30, _, _) = needs
    assert forty == 40 and more == pytest.approx(32_000_000 - 4_000_000, rel=1e-6)
    assert fast == pytest.approx(more, rel=1e-4) and slow == pytest.approx(more, rel=1e-4)
    assert more30 == pytest.approx(2 ** 7.5 * 1_000_000 - 4_000_000, rel=1e-6)


def test_a_curve_that_does_not_fall_never_gets_there_and_too_few_points_are_refused(tmp_path):
    rising = _curve(tmp_path, "run", [(1000, 50), (2000, 51), (4000, 52.5)])
    assert fid_by_images.fit(rising, "run", {"s": 0}, [40])[2] == [(40, None, None, None)]
    with pytest.raises(SystemExit, match="'other' has 1 points"):
        fid_by_images.fit(rising, "other", {"s": 0}, [40])


def test_a_curve_continued_from_a_reshipped_start_joins_at_its_offset_and_other_starts_are_left_out(tmp_path):
    # the first stretch from "s" (which had seen 1M), re-shipped at +1M and continued from "s2" to 8M from scratch
    path = _curve(tmp_path, "run", [(0, 60), (1_000_000, 56)])
    with open(path, "a") as f:
        f.write("run,,s2,2000000,1000,52,0.02,0.001\nrun,,s2,6000000,1000,48,0.02,0.001\n"
                "run,,elsewhere,1000,1000,10,0.01,0.001\n")
    slope, error, needs = fid_by_images.fit(path, "run", {"s": 1_000_000, "s2": 2_000_000}, [40])
    assert slope == pytest.approx(-4) and error == pytest.approx(0, abs=1e-6)
    assert needs[0][1] == pytest.approx(2 ** 5 * 1_000_000 - 8_000_000, rel=1e-6)


def test_offsets_are_start_equals_images_and_anything_else_is_a_usage_error(capsys):
    assert fid_by_images.start_offset("checkpoints/dcgan-utkface-64@7a5f5eb=643968") == (
        "checkpoints/dcgan-utkface-64@7a5f5eb", 643968)
    for bad in ("643968", "s=", "s=1e6"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected START=IMAGES"):
            fid_by_images.start_offset(bad)


def test_the_plot_tells_more_than_20_curves_apart(tmp_path):
    import matplotlib.pyplot as plt

    path = tmp_path / "fid.csv"
    path.write_text("label,flags,start,images,n,fid,kid,kid_std\n" + "".join(
        f"curve{i},,s,{images},1000,{50 - i},0.02,0.001\n" for i in range(25) for images in (100, 200)))
    fid_by_images.plot(str(path), str(tmp_path / "fid.png"))
    lines = plt.gcf().axes[0].get_lines()
    assert len(lines) == 25 and (tmp_path / "fid.png").stat().st_size > 0
    assert len({(line.get_color(), line.get_linestyle()) for line in lines}) == 25
    plt.close("all")
