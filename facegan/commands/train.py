"""`facegan train` (`python train.py`): train a DCGAN (or the age-conditional pair, or the VAE) on a folder of
faces. Holds the rules of --resume: what a resumed run may change and what it may not."""
import os
import time

from facegan import FaceganError

HELP = "train a DCGAN on a folder of faces"
FIXED_ON_RESUME = ("model", "conditional", "image_size", "filters")  # the shape of the networks


def add_arguments(parser):
    """Every flag defaults to None, so that --resume can tell what was given from what was not; the defaults
    themselves are facegan.gan.config.DEFAULTS, shown in the help from there."""
    from facegan.gan.config import DEFAULTS, R1_INTERVAL, STRATEGIES
    from facegan.io.model_folder import RUNS_ROOT

    def option(group, flag, help_text, shown=None, **settings):
        key = settings.get("dest", flag[2:].replace("-", "_"))
        default = DEFAULTS[key]
        shown = shown or ({True: "on", False: "off"}[default] if isinstance(default, bool)
                          else "none" if default is None else default)
        group.add_argument(flag, help=f"{help_text} (default: {shown})", **settings)

    data = parser.add_argument_group("data")
    option(data, "--data", "folder of face images, searched recursively", shown="the bundled sample in data/",
           metavar="DIR")
    option(data, "--exclude", "leave out the files whose names are also in FOLDER: faces held out for evaluation "
                              "(data/, when --data is the whole of UTKFace)", metavar="FOLDER")
    option(data, "--conditional", "train the age-conditional pair G(z, age), D(x, age); ages from AGE_... file "
                                  "names or a labels.csv (file,age) in --data", action="store_true", default=None)
    model = parser.add_argument_group("model")
    option(model, "--model", "dcgan: the classic recipe; vae: the convolutional VAE that face math compares "
                             "with", choices=("dcgan", "vae"))
    option(model, "--image-size", "32, 64 or 128", type=int, metavar="N")
    option(model, "--filters", "channels of the widest-resolution layer; 64 as in the paper", type=int,
           metavar="N")
    option(model, "--init-from", "start from the generator.h5 and discriminator.h5 in FOLDER (a run's "
                                 "checkpoint/ or checkpoints/dcgan-utkface-64) with fresh optimizers; a plain "
                                 "pair can start the --conditional one, whose age inputs then start at zero "
                                 "weight", metavar="FOLDER")
    optimiser = parser.add_argument_group("optimiser")
    option(optimiser, "--epochs", "epochs to train in all (with --resume: the total to reach)", type=int,
           metavar="N")
    option(optimiser, "--batch-size", "real images per step", type=int, metavar="N")
    option(optimiser, "--lr", "Adam learning rate", type=float, dest="learning_rate", metavar="LR")
    option(optimiser, "--beta1", "Adam beta_1", type=float, dest="beta_1", metavar="B")
    option(optimiser, "--d-lr", "D's own Adam learning rate, the two time-scale update rule (TTUR, Heusel et al., "
                                "2017); G keeps --lr", type=float, dest="discriminator_learning_rate", metavar="LR",
           shown="--lr")
    option(optimiser, "--precision", "bf16: mixed precision, bfloat16 compute with float32 weights (Micikevicius "
                                     "et al., 2018), for CPUs with AVX-512 BF16 and GPUs; the saved .h5 files stay "
                                     "float32", choices=("float32", "bf16"))
    option(optimiser, "--seed", "seed for weights, noise and shuffling", type=int, metavar="S")
    hardware = parser.add_argument_group("hardware")
    option(hardware, "--distribute", "data-parallel training with tf.distribute: mirrored (all GPUs of this "
                                     "machine) or multi-worker (one process per machine, configured by "
                                     "TF_CONFIG); --batch-size is then the global batch (docs/distributed.md)",
           choices=STRATEGIES)
    stabilisers = parser.add_argument_group("stabilisers (all off by default: the plain recipe)")
    option(stabilisers, "--real-label", "D's label for real images; 0.9 is one-sided label smoothing",
           type=float, metavar="L")
    option(stabilisers, "--separate-batches", "D trains on the real and the fake half of its batch apart, as "
                                              "the original DCGAN code", action="store_true", default=None)
    option(stabilisers, "--generator-steps", "G steps per D step", type=int, metavar="N")
    option(stabilisers, "--mismatched-ages", "--conditional only: D also learns real faces under wrong age "
                                             "groups as fake (the matching-aware D of GAN-CLS), to strengthen "
                                             "the age condition", action="store_true", default=None)
    option(stabilisers, "--diffaugment", "DiffAugment (Zhao et al., 2020): every image D sees, in both steps, "
                                         "changed by the comma-separated policy (color, translation, cutout; all "
                                         "three if none given)", nargs="?", const="color,translation,cutout",
           metavar="POLICY", shown="off")
    option(stabilisers, "--ada-target", "adaptive augmentation (ADA, Karras et al., 2020): --diffaugment's "
                                        "changes made to each image with a probability p that rises while D "
                                        "calls more than this share of the reals real, and falls while fewer "
                                        "(0.6 is ADA's); 0 is off", type=float, metavar="R")
    option(stabilisers, "--instance-noise", "instance noise (Sonderby et al., 2016): Gaussian noise of this "
                                            "standard deviation on every image D sees, in both steps; 0 is off",
           type=float, metavar="SIGMA")
    option(stabilisers, "--r1-gamma", "lazy R1 gradient penalty (Mescheder et al., 2018; StyleGAN2's lazy form): "
                                      f"every {R1_INTERVAL} D steps, one more D update on the reals against (G/2) "
                                      "times the mean squared gradient of D's logit with respect to the image, "
                                      f"times {R1_INTERVAL} "
                                      "(ADA's heuristic 0.0002 * size^2 / batch: 0.013 at 64x64, batch 64); 0 is off",
           type=float, metavar="G")
    option(stabilisers, "--ema", "also keep an exponential moving average of G's weights (0.999 is usual), "
                                 "saved as generator_ema.h5 and used for samples and generate.py; training is "
                                 "unchanged; 0 is none", type=float, metavar="DECAY")
    output = parser.add_argument_group("output")
    output.add_argument("--out", metavar="DIR", help=f"folder: the run (default: {RUNS_ROOT}/run-DATE-TIME; with "
                                                     "--resume, the newest run)")
    output.add_argument("--resume", action="store_true", help="continue the run in --out from its last "
                                                              "checkpoint; the flags given beside it change "
                                                              "the run from there")
    option(output, "--save-every", "also save a checkpoint every STEPS steps within an epoch, so that a crash or "
                                   "a kill loses at most that many steps (--resume goes on from there); 0 is off: "
                                   "at epoch ends only", type=int, metavar="STEPS")
    option(output, "--keep-every", "every K epochs, also keep a copy of the generator (and its --ema average) in "
                                   "snapshots/epoch_NNN/, to score or pick from later; 0 is off", type=int,
           metavar="K")
    option(output, "--eval-every", "every K epochs, log FID and KID of --eval-n samples against the training "
                                   "faces (needs the eval extra); 0 is off", type=int, metavar="K")
    option(output, "--eval-n", "faces generated and real faces used per evaluation", type=int,
           metavar="N")


def run(args):
    from facegan.gan import training
    from facegan.gan.config import DEFAULTS
    from facegan.io import model_folder
    from facegan.io.model_folder import RUNS_ROOT

    chosen = {key: value for key, value in vars(args).items()
              if key in DEFAULTS and value is not None}
    if args.resume:
        run_dir = args.out or model_folder.newest_run(RUNS_ROOT)
        if run_dir is None or model_folder.checkpoint_dir(run_dir) is None:
            raise FaceganError(f"{run_dir or os.path.join(RUNS_ROOT, '')}: no checkpoint to resume from")
        config = {**DEFAULTS, **model_folder.read_config(run_dir)}
        if "init_from" in chosen:
            raise FaceganError("--init-from starts a new run; a --resume continues from the run's own checkpoint")
        for fixed in FIXED_ON_RESUME:
            if fixed in chosen and chosen[fixed] != config[fixed]:
                raise FaceganError(f"{run_dir} was trained with --{fixed.replace('_', '-')} {config[fixed]}; "
                                   "it cannot change on --resume")
        config.update(chosen)
        resumed = model_folder.checkpoint_models(run_dir).raw_generator_path
        print(f"weights: {model_folder.describe(resumed)}, resumed")
    else:
        run_dir = args.out or os.path.join(RUNS_ROOT, time.strftime("run-%Y%m%d-%H%M%S"))
        if model_folder.checkpoint_dir(run_dir) is not None:
            raise FaceganError(f"{run_dir} already holds a checkpoint: add --resume to continue it, "
                               "or choose another --out")
        config = {**DEFAULTS, **chosen}
        if config["init_from"] is not None:
            print(f"weights: starting from {model_folder.describe(config['init_from'])}")
    if config.get("data") is None or not os.path.isdir(config["data"]):
        raise FaceganError(f"{config['data']}: no such folder (give --data DIR, a folder of face images)")
    if config["exclude"] is not None and not os.path.isdir(config["exclude"]):
        raise FaceganError(f"{config['exclude']}: no such folder (--exclude names a folder of held-out faces)")
    training.train(config, run_dir, resume=args.resume)
