"""A training run's settings and their defaults: what `facegan train`'s flags set and a run's config.json records.
Keras-free, so that `facegan train --help` answers before TensorFlow loads."""
import os

from facegan import REPO

# The DCGAN paper's Adam settings, which the recipe (facegan.gan.recipe) and the VAE train with by default
LEARNING_RATE = 2e-4
BETA_1 = 0.5
R1_INTERVAL = 16  # D steps between the lazy R1 updates of --r1-gamma (StyleGAN2's; facegan.gan.penalty)
# Every setting of a run with its default, which `facegan train` shows in its help
DEFAULTS = {
    "model": "dcgan",
    "data": os.path.join(REPO, "data"),
    "exclude": None,  # a folder of faces held out: its file names are left out of --data
    "epochs": 25,
    "batch_size": 64,
    "image_size": 64,
    "filters": 64,
    "learning_rate": LEARNING_RATE,
    "beta_1": BETA_1,
    "seed": 0,
    "conditional": False,
    "eval_every": 0,
    "eval_n": 500,
    "save_every": 0,  # steps between checkpoints within an epoch, 0: at epoch ends only
    "keep_every": 0,  # epochs between kept snapshots of the generator(s), 0: none
    "init_from": None,
    # the classic stabilisers, off by default (see recipe.py)
    "real_label": 1.0,
    "separate_batches": False,
    "generator_steps": 1,
    "mismatched_ages": False,  # conditional runs only
    # what D sees and how fast it learns, off by default (see augment.py and recipe.py)
    "diffaugment": "",  # a comma-separated DiffAugment policy
    "instance_noise": 0.0,
    "ada_target": 0.0,  # ADA: DiffAugment's probability adapted to this share of reals D calls real; 0 is off
    "r1_gamma": 0.0,  # lazy R1 gradient penalty on D's reals (facegan.gan.penalty); 0 is off
    "discriminator_learning_rate": None,  # None: --lr
    "precision": "float32",
    # sampling, not training: an exponential moving average of G's weights, 0 for none (see GeneratorAverage)
    "ema": 0.0,
    # data-parallel training with tf.distribute: none, mirrored or multi-worker (see distribute.py); the batch is global
    "distribute": "none",
}
MODELS = ("dcgan", "vae")
STRATEGIES = ("none", "mirrored", "multi-worker")  # --distribute (facegan.gan.distribute)
# --precision: Keras' dtype policy for building the models. bf16 computes in bfloat16 with float32 weights, on
# CPUs with AVX-512 BF16 (and GPUs); the saved .h5 files are float32 either way (weights.float32_twin).
PRECISIONS = {"float32": "float32", "bf16": "mixed_bfloat16"}
