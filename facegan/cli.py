"""`facegan COMMAND ...`: the command line. train.py and generate.py are this, with the command filled in.

Heavy imports (Keras) wait until a command runs, so that bad arguments fail in a fraction of a second.
"""
import argparse
import os
import sys
import time

from facegan import FaceganError

RUNS_ROOT = "checkpoints"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, not argparse's usage block: the brief's rule for nonsense arguments.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _train_arguments(parser):
    parser.add_argument("--data", help="folder of face images, searched recursively (default: the bundled "
                                       "sample in data/)")
    parser.add_argument("--epochs", type=int, help="epochs to train in all (default 25)")
    parser.add_argument("--batch-size", type=int, help="real images per step (default 64)")
    parser.add_argument("--image-size", type=int, help="32, 64 or 128 (default 64)")
    parser.add_argument("--filters", type=int, help="channels of the widest-resolution layer; 64 as in the "
                                                    "paper (default 64)")
    parser.add_argument("--lr", type=float, dest="learning_rate", help="Adam learning rate (default 2e-4)")
    parser.add_argument("--beta1", type=float, dest="beta_1", help="Adam beta_1 (default 0.5)")
    parser.add_argument("--seed", type=int, help="seed for weights, noise and shuffling (default 0)")
    parser.add_argument("--out", help=f"run folder (default: {RUNS_ROOT}/run-DATE-TIME; with --resume, "
                                      "the newest run)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last "
                                                              "checkpoint")


def _train(args):
    from facegan import checkpoints, training

    chosen = {key: value for key, value in vars(args).items()
              if key in training.DEFAULTS and value is not None}
    if args.resume:
        run_dir = args.out or checkpoints.newest_run(RUNS_ROOT)
        if run_dir is None or checkpoints.checkpoint_dir(run_dir) is None:
            raise FaceganError(f"{run_dir or RUNS_ROOT + '/'}: no checkpoint to resume from")
        config = {**training.DEFAULTS, **checkpoints.read_config(run_dir)}
        for fixed in ("image_size", "filters"):
            if fixed in chosen and chosen[fixed] != config[fixed]:
                raise FaceganError(f"{run_dir} was trained with --{fixed.replace('_', '-')} {config[fixed]}; "
                                   "it cannot change on --resume")
        config.update(chosen)
    else:
        run_dir = args.out or os.path.join(RUNS_ROOT, time.strftime("run-%Y%m%d-%H%M%S"))
        if checkpoints.checkpoint_dir(run_dir) is not None:
            raise FaceganError(f"{run_dir} already holds a checkpoint: add --resume to continue it, "
                               "or choose another --out")
        config = {**training.DEFAULTS, **chosen}
    if config.get("data") is None or not os.path.isdir(config["data"]):
        raise FaceganError(f"{config['data']}: no such folder (give --data DIR, a folder of face images)")
    training.train(config, run_dir, resume=args.resume)


def _generate_arguments(parser):
    parser.add_argument("--n", type=int, default=64, help="how many faces (default 64)")
    parser.add_argument("--checkpoint", help="a run folder or a generator.h5 (default: the newest run under "
                                             f"{RUNS_ROOT}/)")
    parser.add_argument("--out", default="samples.png", help="the grid picture to write (default samples.png)")
    parser.add_argument("--out-dir", help="also write one PNG per face into this folder")
    parser.add_argument("--seed", type=int, help="the same seed gives the same faces (default: random)")


def _generate(args):
    import numpy as np

    from facegan import checkpoints, pictures

    if args.n < 1:
        raise FaceganError(f"--n must be at least 1, not {args.n}")
    generator_path = checkpoints.find_generator(args.checkpoint, RUNS_ROOT)
    generator = checkpoints.load_model_h5(generator_path)
    noise = np.random.default_rng(args.seed).uniform(-1, 1, (args.n, generator.input_shape[-1]))
    faces = generator.predict(noise.astype(np.float32), verbose=0)
    pictures.save_image(pictures.grid(faces), args.out)
    if args.out_dir:
        for index, face in enumerate(faces):
            pictures.save_image(pictures.grid(face[None], padding=0), os.path.join(args.out_dir, f"face_{index:04d}.png"))
    print(f"{args.n} faces from {generator_path} -> {args.out}" + (f" and {args.out_dir}/" if args.out_dir else ""))


COMMANDS = {
    "train": ("train a DCGAN on a folder of faces", _train_arguments, _train),
    "generate": ("draw new faces from a trained generator", _generate_arguments, _generate),
}


def main(argv=None):
    parser = _Parser(prog="facegan", description="DCGAN faces in Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, add_arguments, _run) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command][2](args)
    except FaceganError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
