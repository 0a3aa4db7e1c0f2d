"""The FID/KID floor of a face folder: two disjoint random halves of the same real faces against each other.

    python bench/fid_floor.py [--faces data/] [--n 1000] [--image-size 64]

A generator cannot score below what real faces score against other real faces at the same sample count;
put its `facegan evaluate` figure next to this one. Needs the eval extra.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import numpy as np  # noqa: E402

from facegan.io.data import load_faces  # noqa: E402
from facegan.metrics.fid import frechet_distance, inception_features, kernel_distance  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--n", type=int, default=1000, help="faces per half")
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    faces = load_faces(args.faces, args.image_size, progress=False)
    if len(faces) < 2 * args.n:
        sys.exit(f"{args.faces}: {len(faces)} faces, fewer than two halves of {args.n}")
    chosen = np.random.default_rng(1).permutation(len(faces))[:2 * args.n]
    started = time.perf_counter()
    features = inception_features(faces.batch(chosen))  # random order: names sort by age
    seconds = time.perf_counter() - started
    first, second = features[:args.n], features[args.n:]
    kid, kid_std = kernel_distance(first, second)
    print(f"{args.faces}: two disjoint halves of {args.n} faces at {args.image_size}x{args.image_size}: "
          f"FID {frechet_distance(first, second):.2f}, KID {kid:.4f} +- {kid_std:.4f} "
          f"(Inception: {seconds / len(features) * 1000:.0f} ms per face, {os.cpu_count()} CPU cores)")


if __name__ == "__main__":
    main()
