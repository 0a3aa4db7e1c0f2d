"""What several commands share: loading and naming the weights they use, the projection flags, progress bars
and output names."""
import os

from facegan import FaceganError


class ProgressBar:
    """A progress bar with the time left (facegan.io.progress), made on first use so that it knows the total; a new
    one when a new phase of work starts counting from the beginning again."""

    def __init__(self, title, unit="step"):
        self.title, self.unit, self.bar, self.done = title, unit, None, 0

    def __call__(self, done, total):
        if self.bar is None or done < self.done:
            from facegan.io import progress

            print(self.title)
            self.bar = progress.bar(total, self.unit)
        self.done = done
        if done % 10 == 0 or done == total:
            self.bar.update(done)


def load_generator(folder, conditional=None):
    """G of a ModelFolder (facegan.io.model_folder), age-conditional or plain as `conditional` asks (None: either);
    says which weights it loaded."""
    from facegan.io import model_folder

    generator = folder.load_generator(conditional)
    print(f"weights: {model_folder.describe(folder.generator)}"
          + ("; the newest run (choose others with --checkpoint)" if folder.newest else ""))
    return generator


def load_latent_encoder(folder, required):
    """The latent encoder of a ModelFolder (or None, unless `required`); says whether projection starts from it."""
    from facegan.io import model_folder

    latent_encoder = folder.load_encoder(required)
    print(f"latent encoder: {model_folder.describe(folder.encoder)}" if latent_encoder
          else f"latent encoder: none ({model_folder.ENCODER_FILE}), so projection starts from random z; "
               "`facegan train-encoder` makes one")
    return latent_encoder


def load_face_math_models(checkpoint):
    """G, D and the latent encoder (None without one) for projecting faces: --checkpoint, else the shipped
    unconditional model; a plain pair."""
    from facegan.io import model_folder

    folder = model_folder.find(checkpoint, conditional=False)
    generator = load_generator(folder, conditional=False)
    return generator, folder.load_discriminator(generator), load_latent_encoder(folder, required=False)


def load_aging_models(folder):
    """The AgingModels of an age-conditional ModelFolder (facegan.aging.models); says which weights it loaded."""
    from facegan.aging.models import AgingModels
    from facegan.io import model_folder

    models = AgingModels.load(folder)
    print(f"weights: {model_folder.describe(folder.generator)}"
          + ("; the newest run (choose others with --checkpoint)" if folder.newest else ""))
    print(f"latent encoder: {model_folder.describe(folder.encoder)}")
    print(f"gender reader: {model_folder.describe(folder.gender_reader)}" if models.gender
          else f"gender reader: none ({model_folder.READER_FILE}), so faces keep whatever drift in gender G gives "
               "them as they age; `facegan fit-gender` makes one")
    print(f"strength table: {model_folder.describe(folder.strength_table)}, calibrated strength "
          f"{models.photo_strength:g}" if models.strengths is not None
          else f"strength table: none ({model_folder.TABLE_FILE}), so every age group ages by one strength, "
               f"{models.photo_strength:g}; `facegan fit-strengths` makes one")
    return models


def add_fitting_arguments(parser, labels, saved):
    """The flags of the commands that fit a helper of an aging run on labelled faces (fit-gender,
    fit-strengths): `labels` says what the file names must give, `saved` what is saved beside the encoder."""
    parser.add_argument("--data", required=True, help=f"folder of faces whose {labels}, searched recursively")
    parser.add_argument("--exclude", metavar="FOLDER", help="leave out the files whose names are also in FOLDER "
                                                            "(faces held out for the bench)")
    parser.add_argument("--checkpoint", help=f"an age-conditional run folder with its latent encoder; {saved} is "
                                             "saved beside the encoder (default: the newest age-conditional run "
                                             "under checkpoints/, else the shipped checkpoints/aging-utkface-64)")
    parser.add_argument("--n", type=int, default=8000, help="faces to fit on at most, a random choice "
                                                            "(default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of that choice and of the fit (default %(default)s)")


def add_projection_arguments(parser, checkpoint_help=None, encoder_required=False, refine=False):
    """The flags of every command that projects faces into z (project, math, interpolate, complete, age); with
    `encoder_required` (age), the help leaves out the defaults of a start without an encoder; `refine` (project,
    complete: the commands that show the reconstruction itself) adds --refine-steps."""
    from facegan.io.model_folder import ENCODER_FILE
    from facegan.latent import defaults

    parser.add_argument("--checkpoint", metavar="PATH",
                        help=checkpoint_help or "a run folder, or a generator.h5 with its discriminator.h5 (and "
                                                f"{ENCODER_FILE}, if trained) beside it (default: the shipped "
                                                "checkpoints/dcgan-utkface-64)")
    without = "" if encoder_required else f" when the checkpoint has {ENCODER_FILE}, else {defaults.STEPS}"
    group = parser.add_argument_group("projection (finding each face's z)")
    group.add_argument("--steps", type=int, metavar="N",
                       help=f"optimisation steps per face (default: {defaults.STEPS_FROM_ENCODER} from the latent "
                            f"encoder's guess{without})")
    without = "" if encoder_required else f" with an encoder, else {defaults.RESTARTS}"
    group.add_argument("--restarts", type=int, metavar="N",
                       help="starting points per face, the first the encoder's guess if there is one, the others "
                            f"random; the best is kept (default: {defaults.RESTARTS_FROM_ENCODER}{without})")
    group.add_argument("--lambda", type=float, dest="perceptual_weight", default=defaults.PERCEPTUAL_WEIGHT,
                       metavar="L", help="weight of the perceptual (discriminator) loss against the pixel loss "
                                         "(default %(default)s)")
    group.add_argument("--z-lr", type=float, dest="learning_rate", default=defaults.LEARNING_RATE, metavar="LR",
                       help="Adam learning rate for z (default %(default)s)")
    group.add_argument("--seed", type=int, default=0, metavar="S",
                       help="seed of the random starting points (default %(default)s)")
    if refine:
        group.add_argument("--refine-steps", type=int, default=defaults.REFINE_STEPS, metavar="N",
                           help="then refine the generator's first 4x4 feature map for N steps, so that the "
                                "reconstruction keeps the person; the z is kept as found (0: z alone; default "
                                "%(default)s)")


def projection_settings(args):
    """The keyword arguments of `projection.project` that the projection flags set, checked; steps and restarts
    left unset take latent's defaults for a start with or without an encoder."""
    for flag, value in (("--steps", args.steps), ("--restarts", args.restarts)):
        if value is not None and value < 1:
            raise FaceganError(f"{flag} must be at least 1, not {value}")
    settings = {"steps": args.steps, "restarts": args.restarts, "perceptual_weight": args.perceptual_weight,
                "learning_rate": args.learning_rate, "seed": args.seed, "progress": ProgressBar("projecting")}
    if "refine_steps" in vars(args):  # project, complete
        if args.refine_steps < 0:
            raise FaceganError(f"--refine-steps must be 0 or more, not {args.refine_steps}")
        settings["refine_steps"] = args.refine_steps
    return settings


def read_inputs(paths, generator):
    """The faces named on the command line at the generator's size; unusable files are listed, not fatal."""
    from facegan.io import data

    faces = data.read_inputs(paths, generator.output_shape[1])
    faces.warn_about_skipped()
    return faces


def codes_of_images(paths, generator, discriminator, encoder, args):
    """Projects every image a command needs in one batch (from the latent encoder's guesses, unless it is None);
    returns {path: z}, z None for unusable files."""
    import numpy as np

    from facegan.latent.projection import project

    if not paths:
        return {}
    faces = read_inputs(sorted(set(paths)), generator)
    result = project(generator, discriminator, faces.batch(np.arange(len(faces))), encoder=encoder,
                     **projection_settings(args))
    print(f"projected {len(faces)} face(s), mean pixel error {result.errors.mean():.1f} of 255")
    return {**{path: None for path, _problem in faces.skipped}, **dict(zip(faces.files, result.codes))}


def output_names(files):
    """`<input file name>` for each input, made unique when two folders hold the same name."""
    names, seen = [], {}
    for path in files:
        name = os.path.basename(path)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return names
