"""`facegan train-encoder`: train the latent encoder that gives `facegan age` a first z in one pass, for an
age-conditional run of your own (the shipped pair comes with its encoder)."""
import os

from facegan import FaceganError

HELP = "train the aging encoder of an age-conditional run (z from a face in one pass)"


def add_arguments(parser):
    from facegan.aging import ENCODER_STEPS

    parser.add_argument("--checkpoint", help="an age-conditional run folder; the encoder is saved into it "
                                             "(default: the newest one under checkpoints/, else the shipped "
                                             "checkpoints/aging-utkface-64)")
    parser.add_argument("--encoder-steps", type=int, default=ENCODER_STEPS,
                        help="training steps of 64 generated faces (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the encoder's weights and of the faces "
                                                            "it learns from (default %(default)s)")


def run(args):
    from facegan import aging, checkpoints
    from facegan.commands.common import ProgressBar, aging_folder, load_conditional_pair
    from facegan.files import replaced_atomically

    if args.encoder_steps < 1:
        raise FaceganError(f"--encoder-steps must be at least 1, not {args.encoder_steps}")
    run_dir = aging_folder(args.checkpoint, newest_run_first=True)
    generator, _discriminator = load_conditional_pair(run_dir)
    config_path = os.path.join(run_dir, checkpoints.CONFIG_FILE)
    filters = checkpoints.read_config(run_dir).get("filters", 64) if os.path.isfile(config_path) else 64
    encoder, losses = aging.train_latent_encoder(generator, filters, args.encoder_steps, seed=args.seed,
                                                 progress=ProgressBar("training the latent encoder"))
    path = os.path.join(run_dir, aging.ENCODER_FILE)
    with replaced_atomically(path) as temporary:
        checkpoints.save_model_h5(encoder, temporary)
    first, last = losses[:100], losses[-100:]
    print(f"latent encoder -> {checkpoints.describe(path)} (mean squared z error: first 100 steps "
          f"{sum(first) / len(first):.3f}, last 100 {sum(last) / len(last):.3f}; guessing 0 scores 0.333)")
