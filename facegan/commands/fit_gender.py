"""`facegan fit-gender`: fit the gender reader that `facegan age` uses to keep each face's gender as it ages it
(facegan.aging.gender), on faces whose UTKFace file names say their gender, against the run's latent encoder."""
from facegan import FaceganError

HELP = "fit the gender reader of an aging run, so that aging keeps each face's gender"
FEWEST = 50  # of each gender


def add_arguments(parser):
    from facegan.commands.common import add_fitting_arguments

    add_fitting_arguments(parser, "UTKFace names give their gender (AGE_GENDER_...)", "the reader")


def run(args):
    import numpy as np

    from facegan.aging import gender
    from facegan.commands.common import load_generator, load_latent_encoder, read_inputs
    from facegan.io import model_folder
    from facegan.io.data import find_images, read_ages, read_genders
    from facegan.io.pixels import to_unit

    if args.n < 2 * FEWEST:
        raise FaceganError(f"--n must be at least {2 * FEWEST}, not {args.n}")
    files = find_images(args.data, args.exclude)
    ages, genders = read_ages(args.data, files)[0], read_genders(files)
    labelled = [index for index, (age, sex) in enumerate(zip(ages, genders)) if age is not None and sex is not None]
    chosen = sorted(np.random.default_rng(args.seed).permutation(labelled)[:args.n])
    counts = np.bincount([genders[index] for index in chosen], minlength=2)
    if counts.min() < FEWEST:
        raise FaceganError(f"{args.data}: {counts[0]} men and {counts[1]} women named AGE_GENDER_... (after "
                           f"--exclude); the reader needs at least {FEWEST} of each")
    folder = model_folder.find(args.checkpoint, conditional=True, newest_run_first=True)
    generator = load_generator(folder, conditional=True)
    encoder = load_latent_encoder(folder, required=True)
    paths = [files[index] for index in chosen]
    faces = read_inputs(paths, generator)  # unusable files are listed and left out
    labels = {path: (ages[index], genders[index]) for path, index in zip(paths, chosen)}
    fit_ages, fit_genders = zip(*(labels[path] for path in faces.files))
    counts = np.bincount(fit_genders, minlength=2)
    print(f"fitting on {counts[0]} men and {counts[1]} women")
    reader = gender.fit_reader(encoder, generator, to_unit(faces.images), fit_genders, fit_ages, args.seed)
    path = folder.gender_reader
    gender.save_reader(reader, path)
    print(f"gender reader -> {path} (the logit moves {reader.slope:.3g} per unit of z along its direction)")
