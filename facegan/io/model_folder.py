"""A model folder, as one concept: which folder a --checkpoint names, where each of its files lives, and what kind
of model it holds. The only code that knows a folder's file names; no other builds a path beside a generator.

A run folder (`facegan train`) holds `config.json` and `checkpoint/` (generator.h5, discriminator.h5, with
`--ema` generator_ema.h5, and the training state: facegan.io.checkpoints), and beside them what later commands fit
to its generator: latent_encoder.h5 (train-encoder), gender_reader.npz (fit-gender) and aging_strengths.npz
(fit-strengths). A shipped folder holds the same files flat, without config.json.
"""
import glob
import json
import os

from facegan import REPO, FaceganError

RUNS_ROOT = "checkpoints"  # where `train` puts runs, and where the newest one is looked for
CHECKPOINT = "checkpoint"
SNAPSHOTS = "snapshots"  # `train.py --keep-every`: snapshots/epoch_NNN/ with copies of the generator files
CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
# the models of a checkpoint (a trainer's `models`, the average of G), each saved as NAME.h5: SavedModels.path
GENERATOR, AVERAGE_GENERATOR, DISCRIMINATOR = "generator", "generator_ema", "discriminator"
GENERATOR_FILE = f"{GENERATOR}.h5"
EMA_GENERATOR_FILE = f"{AVERAGE_GENERATOR}.h5"  # `train.py --ema`: the average of G that sampling prefers
DISCRIMINATOR_FILE = f"{DISCRIMINATOR}.h5"
ENCODER_FILE = "latent_encoder.h5"      # facegan.latent.encoder
READER_FILE = "gender_reader.npz"       # facegan.aging.gender: reads the latent encoder's features
TABLE_FILE = "aging_strengths.npz"      # facegan.aging.strengths: fit to the generator
# Weights that come with facegan: what generate.py and the face-math commands use when you have no run yet...
SHIPPED_DIR = os.path.join(REPO, "checkpoints", "dcgan-utkface-64")
# ... and the age-conditional pair with its latent encoder, for `generate.py --age` and `facegan age`
SHIPPED_AGING_DIR = os.path.join(REPO, "checkpoints", "aging-utkface-64")


def checkpoint_dir(run_dir):
    """The complete checkpoint of a run folder, or None; never the half-written `checkpoint.new`."""
    for name in (CHECKPOINT, CHECKPOINT + ".old"):
        path = os.path.join(run_dir, name)
        if os.path.exists(os.path.join(path, STATE_FILE)):
            return path
    return None


def checkpoint_models(run_dir):
    """The SavedModels of a run's complete checkpoint, or None."""
    path = checkpoint_dir(run_dir)
    return None if path is None else SavedModels(path)


def snapshot_dir(run_dir, epoch):
    """Where `train.py --keep-every` keeps the generators of `epoch` (a folder of SavedModels)."""
    return os.path.join(run_dir, SNAPSHOTS, f"epoch_{epoch:03d}")


def kept_snapshots(run_dir):
    """{epoch: its snapshot_dir} of every complete snapshot of a run (never a half-written `.new`)."""
    kept = os.path.join(run_dir, SNAPSHOTS)
    names = os.listdir(kept) if os.path.isdir(kept) else []
    return {int(name[len("epoch_"):]): os.path.join(kept, name) for name in names
            if name.startswith("epoch_") and name[len("epoch_"):].isdigit()}


class SavedModels:
    """A folder of models saved side by side: a run's checkpoint, a kept snapshot, a shipped folder, an --init-from
    one. Each model has its file by its name (`path`); the raw G that training continues, and the average that
    sampling prefers when there is one."""

    def __init__(self, folder):
        self.folder = folder

    def path(self, name):
        """The file of the model `name` (GENERATOR, AVERAGE_GENERATOR, DISCRIMINATOR, a VAE's "encoder")."""
        return os.path.join(self.folder, f"{name}.h5")

    @property
    def raw_generator_path(self):
        return self.path(GENERATOR)

    @property
    def average_generator_path(self):
        """The average of G (`--ema`), or None where the folder has none."""
        path = self.path(AVERAGE_GENERATOR)
        return path if os.path.isfile(path) else None

    @property
    def discriminator_path(self):
        return self.path(DISCRIMINATOR)

    @property
    def sampled_generator_path(self):
        """The generator to sample from: the average first, else the raw G, or None where there is neither."""
        raw = self.raw_generator_path
        return self.average_generator_path or (raw if os.path.isfile(raw) else None)

    def check_init_from(self):
        """That the folder has the pair a run started with --init-from needs; else a FaceganError naming it."""
        for path in (self.raw_generator_path, self.discriminator_path):
            if not os.path.isfile(path):
                raise FaceganError(f"{self.folder}: no {os.path.basename(path)} here (--init-from needs a folder with "
                                   f"{GENERATOR_FILE} and {DISCRIMINATOR_FILE})")


def read_config(run_dir):
    with open(os.path.join(run_dir, CONFIG_FILE)) as f:
        return json.load(f)


def newest_run(root=RUNS_ROOT, conditional=None):
    """The most recently checkpointed run folder under `root` (only age-conditional ones, or only others, when
    `conditional` says so), or None."""
    runs = [os.path.dirname(os.path.dirname(path))
            for name in (CHECKPOINT, CHECKPOINT + ".old")
            for path in glob.glob(os.path.join(root, "*", name, STATE_FILE))]
    if conditional is not None:
        runs = [run for run in runs if os.path.exists(os.path.join(run, CONFIG_FILE))
                and bool(read_config(run).get("conditional")) == conditional]
    return max(runs, key=lambda run: os.path.getmtime(checkpoint_dir(run)), default=None)


class ModelFolder:
    """A run folder, a folder of saved models (the shipped ones), or a generator .h5 in either, resolved once.

    `generator`: the file to sample from (in a folder, generator_ema.h5 before generator.h5); `discriminator`
    beside it; `encoder`, `gender_reader` and `strength_table` in the run folder (above checkpoint/), else
    beside it; the kind from the run's config.json (a folder without one holds a plain DCGAN's files)."""

    def __init__(self, path, newest=False):
        self.newest = newest  # chosen as the newest run under the runs folder, not named by --checkpoint
        if os.path.isfile(path):
            self.generator = path
        elif os.path.isdir(path):
            self.generator = next(filter(None, (SavedModels(folder).sampled_generator_path
                                                for folder in (checkpoint_dir(path), path) if folder)), None)
            if self.generator is None:
                raise FaceganError(f"{path}: no {GENERATOR_FILE} in this folder; train one with `python train.py`")
        else:
            raise FaceganError(f"{path}: not a run folder, nor a generator .h5 (no such file or folder)")
        saved = os.path.dirname(os.path.abspath(self.generator))
        self.root = os.path.dirname(saved) if os.path.basename(saved) in (CHECKPOINT, CHECKPOINT + ".old") else saved
        self.discriminator = SavedModels(os.path.dirname(self.generator)).discriminator_path
        self.encoder = os.path.join(self.root, ENCODER_FILE)
        self.gender_reader = os.path.join(self.root, READER_FILE)
        self.strength_table = os.path.join(self.root, TABLE_FILE)
        self.config = read_config(self.root) if os.path.isfile(os.path.join(self.root, CONFIG_FILE)) else {}

    @property
    def is_vae(self):
        """Whether the generator is a VAE's decoder (prior N(0, 1), not U(-1, 1))."""
        return self.config.get("model") == "vae"

    def load_generator(self, conditional=None):
        """G, checked (facegan.io.weights.load_model_h5) to be age-conditional or plain as `conditional` asks (None:
        either)."""
        from facegan.io.weights import load_model_h5

        return load_model_h5(self.generator, "generator", conditional)

    def load_discriminator(self, generator):
        """D, which projection needs for its perceptual loss, checked to match `generator`: age-conditional or not
        as G is, and of G's image size."""
        from facegan.gan.models import is_conditional
        from facegan.io.weights import load_model_h5

        if not os.path.isfile(self.discriminator):
            raise FaceganError(f"{self.discriminator}: missing; projecting faces needs the discriminator saved beside "
                               f"{os.path.basename(self.generator)} (give --checkpoint a run folder)")
        return load_model_h5(self.discriminator, "discriminator", is_conditional(generator),
                             generator.output_shape[1])

    def load_encoder(self, required):
        """The latent encoder of the generator; without one, None, or with `required` a FaceganError that says how
        to train it."""
        from facegan.io.weights import load_model_h5

        if os.path.isfile(self.encoder):
            return load_model_h5(self.encoder, "encoder")
        if required:
            raise FaceganError(f"{self.encoder}: missing; train it once with `facegan train-encoder --checkpoint "
                               f"{self.root}`")
        return None


def find(checkpoint=None, conditional=None, newest_run_first=False, root=RUNS_ROOT):
    """The ModelFolder that --checkpoint names; without one, the newest run under `root` of the kind `conditional`
    asks for (when `newest_run_first`: the commands that fit or train something for a run of your own), else the
    shipped model of that kind."""
    if checkpoint is not None:
        return ModelFolder(checkpoint)
    newest = newest_run(root, conditional) if newest_run_first else None
    if newest is not None:
        return ModelFolder(newest, newest=True)
    shipped = SHIPPED_AGING_DIR if conditional else SHIPPED_DIR
    if not os.path.isfile(SavedModels(shipped).raw_generator_path):
        raise FaceganError(f"no checkpoint found under {root}/ and no shipped model in {shipped}: train one first "
                           "with `python train.py` (or pass --checkpoint RUN_FOLDER_OR_GENERATOR_H5)")
    return ModelFolder(shipped)


def describe(path):
    """A file of a model folder as commands print it: the file, and for a run's checkpoint the epoch and step it
    was saved at, or that it is shipped."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    shown = relative if not relative.startswith(os.pardir) else os.path.normpath(path)
    state_path = os.path.join(os.path.dirname(absolute), STATE_FILE)
    if os.path.isfile(state_path):
        with open(state_path) as f:
            state = json.load(f)
        when = (f"after epoch {state['epoch']}" if state["step"] == 0
                else f"at epoch {state['epoch'] + 1}, step {state['step']}")
        return f"{shown} (saved {when})"
    if os.path.dirname(absolute) in (SHIPPED_DIR, SHIPPED_AGING_DIR):
        return f"{shown} (shipped)"
    return shown
