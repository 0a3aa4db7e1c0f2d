"""`facegan age`: show the faces in photos at another age, Age-cGAN style, with the shipped age-conditional pair
unless --checkpoint names a run of your own."""
import os

from facegan import FaceganError

HELP = "show the faces in photos at another age"
BATCH = 64  # photos projected together: a folder goes through in batches


def add_arguments(parser):
    from facegan.aging.defaults import PHOTO_STRENGTH, REGENERATED_STRENGTH
    from facegan.commands.common import add_projection_arguments

    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR", help="photos of faces, or folders of them")
    parser.add_argument("--to", type=float, required=True, dest="target_age", help="the age to show (0-120)")
    parser.add_argument("--from-age", type=float, help="the age in the photos (default: from a labels.csv or "
                                                       "UTKFace-style file names, AGE_...; else estimated, with "
                                                       "the aging extra)")
    parser.add_argument("--aligned", action="store_true",
                        help="the photos are already aligned face crops (as UTKFace's): skip face detection")
    parser.add_argument("--size", type=int, help="NAME.png as the aligned face crop at SIZE x SIZE (64: as the "
                                                 "models draw it) (default: the whole photo at its own "
                                                 "resolution, the face aged where it is)")
    parser.add_argument("--out", default="aged", help="folder: NAME.png (the aged photo), NAME.strip.png "
                                                      "(before | reconstruction | after), NAME.npz (the three "
                                                      "faces and ages, for evaluate-aging) and a row per face "
                                                      "added to ages.csv (default %(default)s)")
    parser.add_argument("--regenerate", action="store_true",
                        help="show the generator's own face at --to, as Age-cGAN does (default: the photo plus "
                             "what aging changed, G(z, to) - G(z, from), which keeps far more of the person)")
    parser.add_argument("--strength", type=float,
                        help="how far to move the age condition, as a multiple of the step from the source age to "
                             "--to: 1 is --to itself, 2 goes past it as far again (default: the pair's calibrated "
                             f"strength, saved with its strength table, else {PHOTO_STRENGTH:g}; with --regenerate "
                             f"{REGENERATED_STRENGTH:g}: calibrated so that faces aged to 60 look 60)")
    add_projection_arguments(parser, checkpoint_help="an age-conditional run folder, or a folder with generator.h5, "
                                                     "discriminator.h5 and latent_encoder.h5 (default: the "
                                                     "shipped checkpoints/aging-utkface-64)", encoder_required=True)


def _check_ages(args):
    for flag, age in (("--to", args.target_age), ("--from-age", args.from_age)):
        if age is not None and not 0 <= age <= 120:
            raise FaceganError(f"{flag} must be between 0 and 120, not {age:g}")
    if args.size is not None and not 8 <= args.size <= 4096:
        raise FaceganError(f"--size must be between 8 and 4096 pixels, not {args.size}")
    if args.strength is not None and args.strength < 0:
        raise FaceganError(f"--strength must be 0 or more, not {args.strength:g}")


def _photo_files(inputs):
    from facegan.io import data

    files = []
    for path in inputs:
        if os.path.isdir(path):
            files += data.find_images(path)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FaceganError(f"{path}: no such file or folder")
    return files


def run(args):
    from facegan.aging import algorithm
    from facegan.aging.finders import face_finder
    from facegan.aging.photos import read_photos
    from facegan.aging.results import save_aged
    from facegan.commands.common import load_aging_models, output_names, projection_settings
    from facegan.io import model_folder
    from facegan.io.pixels import to_unit

    _check_ages(args)
    models = load_aging_models(model_folder.find(args.checkpoint, conditional=True))
    files = _photo_files(args.inputs)
    finder = None if args.aligned else face_finder()
    settings = projection_settings(args)
    usable = []
    batches = range(0, len(files), BATCH)
    for number, start in enumerate(batches, 1):  # read a batch at a time: its whole photos are held till written
        if len(batches) > 1:
            print(f"batch {number}/{len(batches)}")
        photos = read_photos(files[start:start + BATCH], models.generator.output_shape[1], args.aligned,
                             args.from_age, finder=finder)
        if not photos.files:
            continue
        usable += photos.files
        reconstructions, aged, _codes = algorithm.age(models, to_unit(photos.faces), photos.ages, args.target_age,
                                                      args.strength, args.regenerate, **settings)
        names = output_names(usable)[-len(photos.files):]
        save_aged(args.out, names, photos, reconstructions, aged, args.target_age, args.size)
    if not usable:
        raise FaceganError("no photo could be aged (see the lines above)")
    print(f"{len(usable)} face(s) aged to {args.target_age:g} -> {os.path.join(os.path.normpath(args.out), '')} "
          f"(of {len(files)} photo(s))")
