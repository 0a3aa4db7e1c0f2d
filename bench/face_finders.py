"""How closely dlib's face finder (used off TensorFlow) frames faces as MTCNN (used under TensorFlow) does.

    python bench/face_finders.py [--faces data/] [--start 7] [--every 20]

Runs both finders through `photos.find_face` (the crop that `facegan age` and `facegan serve` age) on every
--every-th face of --faces from the --start-th, and prints one row of docs/backends.md's table: how many faces
MTCNN and dlib found; where MTCNN's eyes land in dlib's 64x64 crop against where they sit in MTCNN's own
(median, 90th percentile, in crop pixels); the ratio of the crops' sides; what is left of finders.py's two
calibrations (MTCNN's eyes-to-mouth depth over dlib's estimate of it, and how far MTCNN's eyes' midpoint sits
below dlib's along the face, in crop pixels: 1 and 0 on the faces they were measured on, --start 0); and the
time a face. Needs TensorFlow (MTCNN) and the aging extra.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import numpy as np  # noqa: E402

from facegan.aging import finders  # noqa: E402
from facegan.aging.photos import FULL_RESOLUTION, find_face  # noqa: E402
from facegan.io.data import find_images, read_picture  # noqa: E402

SIZE = 64


class Timed:
    """A finder that keeps the faces it found last and the time it took in all."""

    def __init__(self, finder):
        self.finder, self.found, self.seconds = finder, [], 0.0

    def find_faces(self, image):
        start = time.perf_counter()
        self.found = self.finder.find_faces(image)
        self.seconds += time.perf_counter() - start
        return self.found


def in_crop(placement, point):
    matrix, offset = placement.unit_to_photo()
    return np.linalg.solve(matrix, np.asarray(point, np.float64) - offset) * SIZE


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", default="data")
    parser.add_argument("--start", type=int, default=7)
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()
    files = find_images(args.faces)[args.start::args.every]
    mtcnn, dlib = Timed(finders.MtcnnFinder()), Timed(finders.DlibFinder())
    apart, sides, depths, lower, by_mtcnn_found = [], [], [], [], 0
    for path in files:
        picture = read_picture(path, FULL_RESOLUTION)
        try:
            _, by_mtcnn = find_face(picture, SIZE, mtcnn)
        except ValueError:
            continue
        by_mtcnn_found += 1
        theirs = max(mtcnn.found, key=lambda face: face.area)
        try:
            _, by_dlib = find_face(picture, SIZE, dlib)
        except ValueError:
            continue
        ours = max(dlib.found, key=lambda face: face.area)
        apart += [np.hypot(*(in_crop(by_dlib, eye) - in_crop(by_mtcnn, eye)))
                  for eye in (theirs.left_eye, theirs.right_eye)]
        sides.append(np.hypot(*by_dlib.across) / np.hypot(*by_mtcnn.across))
        depths.append(theirs.eyes_to_mouth / ours.eyes_to_mouth)
        lower.append((in_crop(by_dlib, (theirs.left_eye + theirs.right_eye) / 2)
                      - in_crop(by_dlib, (ours.left_eye + ours.right_eye) / 2))[1])
    print(f"{len(files)} faces of {args.faces} (every {args.every}th from the {args.start}th): MTCNN found "
          f"{by_mtcnn_found}, dlib {len(sides)} of those")
    print(f"MTCNN's eyes in dlib's {SIZE}x{SIZE} crop, from where they sit in MTCNN's: median "
          f"{np.median(apart):.2f} px, 90th percentile {np.percentile(apart, 90):.2f} px, largest {max(apart):.2f}")
    print(f"crop side, dlib / MTCNN: median {np.median(sides):.3f} (10-90%: {np.percentile(sides, 10):.2f}-"
          f"{np.percentile(sides, 90):.2f})")
    print(f"calibration left over: eyes-to-mouth MTCNN / dlib median {np.median(depths):.3f}; MTCNN's eyes "
          f"{np.median(lower):+.2f} px below dlib's (median)")
    print(f"time a face: dlib {dlib.seconds / len(files):.3f} s, MTCNN {mtcnn.seconds / len(files):.3f} s")


if __name__ == "__main__":
    main()
