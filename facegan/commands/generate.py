"""`facegan generate` (`python generate.py`): draw new faces. The training companion: it samples your newest run
under checkpoints/ when there is one (and says so), else the shipped model."""
import os

from facegan import FaceganError

HELP = "draw new faces from a trained generator"


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=64, metavar="N", help="how many faces (default %(default)s)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="a run folder or a generator.h5 (default: the newest run under checkpoints/, else "
                             "the shipped checkpoints/dcgan-utkface-64)")
    parser.add_argument("--out", default="samples.png", metavar="FILE",
                        help="file: the grid picture, a .png or .jpg (default %(default)s)")
    parser.add_argument("--out-dir", metavar="DIR", help="folder: also write one PNG per face into it")
    parser.add_argument("--seed", type=int, metavar="S", help="the same seed gives the same faces (default: random)")
    parser.add_argument("--age", type=float, metavar="A",
                        help="conditional checkpoints: every face of this age (0-120; default: ages drawn at random)")
    parser.add_argument("--age-sweep", action="store_true",
                        help="conditional checkpoints: --n rows, each one z through every age group, "
                             "youngest on the left")


def run(args):
    import numpy as np

    from facegan.commands.common import load_generator
    from facegan.gan import prior
    from facegan.gan.models import is_conditional
    from facegan.io import model_folder, pictures

    if args.n < 1:
        raise FaceganError(f"--n must be at least 1, not {args.n}")
    pictures.picture_format(args.out)
    if args.age is not None and not 0 <= args.age <= prior.OLDEST:
        raise FaceganError(f"--age must be between 0 and {prior.OLDEST}, not {args.age:g}")
    wants_age = args.age is not None or args.age_sweep
    conditional = True if wants_age else None
    folder = model_folder.find(args.checkpoint, conditional, newest_run_first=True)
    generator = load_generator(folder, conditional)
    conditional = is_conditional(generator)  # with --age or --age-sweep, load_generator made sure of it
    rng = np.random.default_rng(args.seed)
    dim = prior.noise_dim(generator)
    if folder.is_vae:
        noise = rng.standard_normal((args.n, dim)).astype(np.float32)  # a VAE decoder's prior is N(0, 1)
    else:
        noise = prior.sample_noise(rng, args.n, dim)
    columns = None
    if args.age_sweep:
        noise, conditions, columns = prior.age_sweep(noise)
        inputs = [noise, conditions]
    elif conditional:
        ages = np.full(args.n, args.age) if args.age is not None else prior.random_ages(rng, args.n)
        inputs = [noise, prior.age_conditions(ages)]
    else:
        inputs = noise
    faces = generator.predict(inputs, verbose=0)
    pictures.save_image(pictures.grid(faces, columns=columns), args.out)
    if args.out_dir:
        for index, face in enumerate(faces):
            pictures.save_face(face, os.path.join(args.out_dir, f"face_{index:04d}.png"))
    print(f"{len(faces)} faces -> {os.path.normpath(args.out)}"
          + (f" and {os.path.join(os.path.normpath(args.out_dir), '')}" if args.out_dir else ""))
