"""`facegan train-encoder`: train the latent encoder that gives projection a first z in one pass, for a plain
generator (`project`, `math`, `interpolate`, `complete`) or an age-conditional one (`facegan age`)."""
from facegan import FaceganError

HELP = "train the latent encoder of a run (z from a face in one pass), for face math or aging"


def add_arguments(parser):
    from facegan.latent import defaults

    parser.add_argument("--checkpoint", help="a run folder, plain or age-conditional, or a folder with "
                                             "generator.h5; the encoder is saved into it, trained against the "
                                             "generator that sampling uses (generator_ema.h5 when there is one) "
                                             "(default: the newest age-conditional run under checkpoints/, else "
                                             "the shipped checkpoints/aging-utkface-64)")
    parser.add_argument("--encoder-steps", type=int, default=defaults.ENCODER_STEPS,
                        help=f"training steps of {defaults.ENCODER_BATCH} generated faces (default %(default)s)")
    parser.add_argument("--filters", type=int, default=defaults.ENCODER_FILTERS,
                        help="channels of the encoder's first layer, doubling per layer; the file grows with "
                             "their square (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the encoder's weights and of the faces "
                                                            "it learns from (default %(default)s)")


def run(args):
    import os

    from facegan.commands.common import ProgressBar, load_generator
    from facegan.io import model_folder
    from facegan.io.files import replaced_atomically
    from facegan.io.weights import save_model_h5
    from facegan.latent import encoder

    for flag, value in (("--encoder-steps", args.encoder_steps), ("--filters", args.filters)):
        if value < 1:
            raise FaceganError(f"{flag} must be at least 1, not {value}")
    folder = model_folder.find(args.checkpoint, conditional=True, newest_run_first=True)
    generator = load_generator(folder)  # plain or age-conditional
    latent_encoder, losses = encoder.train_latent_encoder(generator, args.filters, args.encoder_steps,
                                                          seed=args.seed,
                                                          progress=ProgressBar("training the latent encoder"))
    path = folder.encoder
    with replaced_atomically(path) as temporary:
        save_model_h5(latent_encoder, temporary)
    tenth = max(1, len(losses) // 10)
    curve = " ".join(f"{sum(losses[i:i + tenth]) / len(losses[i:i + tenth]):.3f}"
                     for i in range(0, len(losses), tenth))
    print(f"latent encoder -> {model_folder.describe(path)}\nmean squared z error by tenths of the steps: {curve} "
          f"(guessing 0 scores 0.333)")
    stale = folder.gender_reader
    if os.path.isfile(stale):
        print(f"{stale} reads the previous encoder's features: fit it again with `facegan fit-gender --data DIR "
              f"--checkpoint {folder.root}` (until then `facegan age` refuses it)")
