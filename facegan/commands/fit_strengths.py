"""`facegan fit-strengths`: fit the table of aging strengths, one for each pair of age groups (facegan.aging.strengths),
that `facegan age` uses by default so that every source group ages alike, with an age reader fit on faces whose
labels.csv or UTKFace file names give their age."""
from facegan import FaceganError

HELP = "fit the strength of each pair of age groups of an aging run, so that every group ages alike"
FEWEST = 100  # labelled faces to fit the age reader on


def add_arguments(parser):
    from facegan.aging.defaults import PHOTO_STRENGTH
    from facegan.commands.common import add_fitting_arguments

    add_fitting_arguments(parser, "labels.csv or UTKFace names (AGE_...) give their age",
                          "the table (made with its gender reader)")
    parser.add_argument("--photo-strength", type=float,
                        help="the pair's calibrated strength, which the table's multiples scale: the one at which "
                             "bench/aging.py (--bases) reads 18-35-year-olds aged to 60 like real 55-65-year-olds; "
                             "saved with the table (default: the one the folder's table has, else "
                             f"{PHOTO_STRENGTH:g})")


def run(args):
    import dataclasses

    import numpy as np

    from facegan.aging import strengths
    from facegan.commands.common import ProgressBar, load_aging_models, read_inputs
    from facegan.gan.prior import AGE_GROUPS
    from facegan.io import model_folder
    from facegan.io.data import find_images, read_ages
    from facegan.io.pixels import to_unit

    if args.n < FEWEST:
        raise FaceganError(f"--n must be at least {FEWEST}, not {args.n}")
    if args.photo_strength is not None and not 0 < args.photo_strength <= 10:
        raise FaceganError(f"--photo-strength must be above 0 and at most 10, not {args.photo_strength:g}")
    files = find_images(args.data, args.exclude)
    ages = read_ages(args.data, files)[0]
    labelled = [index for index, age in enumerate(ages) if age is not None]
    if len(labelled) < FEWEST:
        raise FaceganError(f"{args.data}: {len(labelled)} faces with an age (after --exclude); the age reader "
                           f"needs at least {FEWEST}")
    chosen = sorted(np.random.default_rng(args.seed).permutation(labelled)[:args.n])
    folder = model_folder.find(args.checkpoint, conditional=True, newest_run_first=True)
    models = load_aging_models(folder)
    if args.photo_strength is not None:
        models = dataclasses.replace(models, photo_strength=args.photo_strength)
    faces = read_inputs([files[index] for index in chosen], models.generator)  # unusable files are listed and left out
    known = dict(zip(files, ages))
    print(f"fitting the age reader on {len(faces)} faces")
    reader = strengths.fit_age_reader(models.encoder, to_unit(faces.images), [known[path] for path in faces.files])
    table = strengths.fit_table(models, reader, seed=args.seed,
                                progress=ProgressBar("ageing G's faces of each group to each other group", "pair"))
    path = folder.strength_table
    strengths.save_table(table, models.photo_strength, models.generator, path)
    names = [f"{youngest}-{oldest}" for youngest, oldest in AGE_GROUPS]
    print(f"multiples of the calibrated strength ({models.photo_strength:g}), from (rows) to (columns):")
    print(" " * 7 + " ".join(f"{name:>7}" for name in names))
    for name, row in zip(names, table):
        print(f"{name:>7} " + " ".join(f"{value:7.2f}" for value in row))
    print(f"strength table -> {path}")
