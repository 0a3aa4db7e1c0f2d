"""The training loop around the recipe: epochs, progress, samples, history and resumable checkpoints."""
import os
import signal
import sys
import time

import keras
import numpy as np

from facegan import FaceganError
from facegan.gan import distribute
from facegan.gan.augment import POLICIES
from facegan.gan.config import MODELS, PRECISIONS, STRATEGIES
from facegan.gan.models import (SUPPORTED_IMAGE_SIZES, build_conditional_discriminator, build_conditional_generator,
                                build_discriminator, build_encoder, build_generator)
from facegan.gan.prior import age_conditions, age_sweep
from facegan.gan.recipe import DCGAN
from facegan.gan.vae import VAE
from facegan.io import checkpoints, data, model_folder, pictures, progress
from facegan.metrics import fid

HISTORY_FILE = "history.csv"
QUALITY_FILE = "quality.csv"  # FID and KID every --eval-every epochs
SAMPLE_GRID = 64  # faces per epoch sample grid, 8x8


def check_config(config):
    """One-line errors for settings that cannot work, before any time is spent."""
    if config["model"] not in MODELS:
        raise FaceganError(f"--model {config['model']} is not known; choose one of {', '.join(MODELS)}")
    if config["epochs"] < 1:
        raise FaceganError(f"--epochs must be at least 1, not {config['epochs']}")
    if config["batch_size"] < 1:
        raise FaceganError(f"--batch-size must be at least 1, not {config['batch_size']}")
    if config["image_size"] not in SUPPORTED_IMAGE_SIZES:
        raise FaceganError(f"--image-size {config['image_size']} is not supported; "
                           f"choose one of {', '.join(map(str, SUPPORTED_IMAGE_SIZES))}")
    if config["filters"] < 1:
        raise FaceganError(f"--filters must be at least 1, not {config['filters']}")
    if not 0 < config["learning_rate"] < 1:
        raise FaceganError(f"--lr must be between 0 and 1, not {config['learning_rate']}")
    if not 0 <= config["beta_1"] < 1:
        raise FaceganError(f"--beta1 must be in [0, 1), not {config['beta_1']}")
    if config["save_every"] < 0:
        raise FaceganError(f"--save-every must be 0 (epoch ends only) or more steps, not {config['save_every']}")
    if config["keep_every"] < 0:
        raise FaceganError(f"--keep-every must be 0 (off) or more epochs, not {config['keep_every']}")
    if config["eval_every"] < 0 or config["eval_n"] < 2:
        raise FaceganError("--eval-every must be 0 (off) or more, and --eval-n at least 2")
    if config["conditional"] and config["model"] != "dcgan":
        raise FaceganError("--conditional trains the age-conditional GAN pair; it does not go with --model vae")
    if config["eval_every"] and config["model"] != "dcgan":
        raise FaceganError("--eval-every scores GAN samples; a VAE run is compared in bench/facemath.py instead")
    if not 0.5 < config["real_label"] <= 1 or config["generator_steps"] < 1:
        raise FaceganError("--real-label must be in (0.5, 1] and --generator-steps at least 1")
    if not 0 <= config["ema"] < 1 or (config["ema"] and config["model"] != "dcgan"):
        raise FaceganError(f"--ema must be in [0, 1) (0.999 is usual; 0 is off) and goes with GAN runs only, "
                           f"not {config['ema']} with --model {config['model']}")
    unknown = set(filter(None, config["diffaugment"].split(","))) - set(POLICIES)
    if unknown:
        raise FaceganError(f"--diffaugment {config['diffaugment']}: {', '.join(sorted(unknown))} is not a policy; "
                           f"choose among {','.join(POLICIES)}")
    if config["precision"] not in PRECISIONS:
        raise FaceganError(f"--precision {config['precision']}: choose one of {', '.join(PRECISIONS)}")
    if not 0 <= config["ada_target"] < 1 or (config["ada_target"] and not config["diffaugment"]):
        raise FaceganError(f"--ada-target must be in [0, 1) (0.6 is ADA's; 0 is off) and goes with --diffaugment, "
                           f"not {config['ada_target']}" + ("" if config["diffaugment"] else " without it"))
    if config["instance_noise"] < 0:
        raise FaceganError(f"--instance-noise must be 0 (off) or more, not {config['instance_noise']}")
    if config["r1_gamma"] < 0:
        raise FaceganError(f"--r1-gamma must be 0 (off) or more, not {config['r1_gamma']}")
    if config["r1_gamma"] and config["model"] != "dcgan":
        raise FaceganError("--r1-gamma penalises the GAN's discriminator; it does not go with --model vae")
    if config["discriminator_learning_rate"] is not None and not 0 < config["discriminator_learning_rate"] < 1:
        raise FaceganError(f"--d-lr must be between 0 and 1, not {config['discriminator_learning_rate']}")
    distributed = config["distribute"] != "none"
    if config["distribute"] not in STRATEGIES or (distributed and config["model"] != "dcgan"):
        raise FaceganError(f"--distribute {config['distribute']}: choose one of {', '.join(STRATEGIES)}, "
                           "for GAN runs")
    if config["mismatched_ages"] and not config["conditional"]:
        raise FaceganError("--mismatched-ages teaches D the age groups; it goes with --conditional")
    if config["init_from"] is not None:
        if config["model"] != "dcgan":
            raise FaceganError("--init-from starts a GAN pair from saved weights; it does not go with --model vae")


class GeneratorAverage:
    """An exponential moving average of G's weights, BN moving statistics included, folded in after every step
    (Yazici et al., 2019): a GAN's G circles around good solutions, and the average sits nearer them than any
    single step. Training never sees it: D and G learn exactly as without it. Saved as `generator_ema.h5`,
    and what samples, `--eval-every` and generate.py use when a run keeps one."""

    def __init__(self, generator, decay, saved_path=None):
        self.decay = decay
        self.model = keras.models.clone_model(generator)
        if saved_path:  # through the checked loader; a plain average can start a conditional run's, as G does
            checkpoints.start_from(self.model, saved_path)
        else:
            self.model.set_weights(generator.get_weights())

    def update(self, generator):
        for average, current in zip(self.model.weights, generator.weights):
            average.assign(self.decay * average + (1.0 - self.decay) * current)


class _StopRequest:
    """The first Ctrl-C asks the loop to stop after the current step (and save); a second one stops at once."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nstopping after this step and saving a checkpoint (Ctrl-C again to quit without saving)",
              file=sys.stderr)

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._previous)


def train(config, run_dir, resume=False, log=print):
    """Trains (or resumes) the run in `run_dir`; returns the DCGAN (or VAE). Ctrl-C saves, then raises
    KeyboardInterrupt. Under --distribute multi-worker only the chief writes `run_dir`, the others a scratch copy."""
    check_config(config)
    replicas = distribute.replicas_for(config["distribute"])  # before TensorFlow runs anything
    with replicas.working_folder(run_dir) as folder:
        return _train(config, folder, resume, log, replicas)


def _train(config, run_dir, resume, log, replicas):
    if config["init_from"] is not None and not resume:
        model_folder.SavedModels(config["init_from"]).check_init_from()
    if config["eval_every"]:
        fid.require_extra()  # fail now, in one line, not after the first epoch
    faces = data.load_faces(config["data"], config["image_size"], exclude=config["exclude"])
    if config["conditional"]:
        faces = faces.with_ages(config["data"])
        if not len(faces):
            raise FaceganError(f"{config['data']}: no image has a usable age (from AGE_... file names or a "
                               f"{data.LABELS_FILE} with columns file,age)")
    faces.warn_about_skipped(log)
    if config["batch_size"] > len(faces):
        raise FaceganError(f"--batch-size {config['batch_size']} is larger than the {len(faces)} usable images "
                           f"in {config['data']}")
    batch_size = config["batch_size"]
    replicas.check_batch(batch_size)
    steps_per_epoch = len(faces) // batch_size

    keras.utils.set_random_seed(config["seed"])
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[config["precision"]])
    try:
        trainer, state = _trainer(config, run_dir, resume, replicas)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    average = _generator_average(config, run_dir, resume, trainer.generator)
    sampled = average.model if average else trainer.generator  # what the grids and --eval-every judge
    rng = np.random.default_rng(config["seed"])
    if state["rng"]:
        rng.bit_generator.state = state["rng"]
    sample_input, sample_columns = _sample_input(trainer, config["seed"])
    history = [row for row in checkpoints.read_rows(run_dir, HISTORY_FILE)
               if row["step"] <= state["epoch"] * steps_per_epoch + state["step"]]
    quality = [row for row in checkpoints.read_rows(run_dir, QUALITY_FILE) if row["epoch"] <= state["epoch"]]

    def save(epoch, step):
        checkpoints.write_rows(run_dir, HISTORY_FILE, history)
        checkpoints.save_checkpoint(run_dir, trainer, {"epoch": epoch, "step": step, "rng": rng.bit_generator.state,
                                                       "augment_p": getattr(trainer, "augment_probability", None)},
                                    {model_folder.AVERAGE_GENERATOR: average.model} if average else {})

    log(f"training on {len(faces)} faces from {config['data']}: {steps_per_epoch} steps of {batch_size} per epoch, "
        f"epochs {state['epoch'] + 1}-{config['epochs']}, run folder {run_dir}"
        + (f", {replicas.count} replicas of {batch_size // replicas.count}" if replicas.count > 1 else ""))
    with _StopRequest() as stop:
        for epoch in range(state["epoch"], config["epochs"]):
            order = np.random.default_rng([config["seed"], epoch]).permutation(len(faces))
            log(f"epoch {epoch + 1}/{config['epochs']}")
            bar = progress.bar(steps_per_epoch, "step", stateful_metrics=["img/s"])
            first_step = state["step"] if epoch == state["epoch"] else 0
            for step in range(first_step, steps_per_epoch):
                started = time.perf_counter()
                batch_indices = order[step * batch_size:(step + 1) * batch_size]
                real_batch = faces.batch(batch_indices)
                if config["conditional"]:
                    metrics = trainer.train_step(real_batch, rng, age_conditions(faces.ages[batch_indices]))
                else:
                    metrics = trainer.train_step(real_batch, rng)
                if average:
                    average.update(trainer.generator)
                images_per_second = batch_size / (time.perf_counter() - started)
                history.append({"epoch": epoch + 1, "step": epoch * steps_per_epoch + step + 1, **metrics,
                                "images_per_second": images_per_second})
                bar.update(step + 1, list(metrics.items()) + [("img/s", images_per_second)])
                if config["save_every"] and history[-1]["step"] % config["save_every"] == 0 \
                        and step + 1 < steps_per_epoch:  # the epoch's end saves anyway
                    save(epoch, step + 1)
                if stop.requested:
                    save(epoch, step + 1)
                    log(f"saved a checkpoint at epoch {epoch + 1}, step {step + 1}; continue with --resume")
                    raise KeyboardInterrupt
            grid = pictures.grid(np.float32(keras.ops.convert_to_numpy(sampled(sample_input, training=False))),
                                 columns=sample_columns)
            pictures.save_image(grid, os.path.join(run_dir, "samples", f"epoch_{epoch + 1:03d}.png"))
            save(epoch + 1, 0)
            if config["keep_every"] and (epoch + 1) % config["keep_every"] == 0:
                checkpoints.keep_snapshot(run_dir, epoch + 1)
            if config["eval_every"] and (epoch + 1) % config["eval_every"] == 0:
                scores = fid.score(sampled, config["data"], config["eval_n"], exclude=config["exclude"])
                quality.append({"epoch": epoch + 1, "step": (epoch + 1) * steps_per_epoch,
                                "fid": scores["fid"], "kid": scores["kid"]})
                checkpoints.write_rows(run_dir, QUALITY_FILE, quality)
                log(f"epoch {epoch + 1}: FID {scores['fid']:.1f}, KID {scores['kid']:.4f} "
                    f"({scores['generated']} samples vs {scores['real']} faces of {config['data']})")
            pictures.plot_history(history, steps_per_epoch, os.path.join(run_dir, "losses.png"), quality)
    log(f"done: {run_dir}")
    return trainer


def _trainer(config, run_dir, resume, replicas=distribute.ONE_DEVICE):
    """The DCGAN (or, with --model vae, the VAE) of the run, fresh or from its checkpoint, and its state. The
    models are built anew either way (in the strategy's scope), so that they compute in the run's --precision."""
    second = "discriminator" if config["model"] == "dcgan" else "encoder"
    size, filters = config["image_size"], config["filters"]
    with replicas.scope():
        if config["conditional"]:
            generator = build_conditional_generator(size, filters)
            other = build_conditional_discriminator(size, filters)
        else:
            generator = build_generator(size, filters)
            other = (build_discriminator if second == "discriminator" else build_encoder)(size, filters)
    source = _starting_models(config, run_dir, resume)
    if source is not None:
        checkpoints.start_from(generator, source.raw_generator_path)
        checkpoints.start_from(other, source.path(second))
    state = checkpoints.read_state(run_dir) if resume else {"epoch": 0, "step": 0, "rng": None}
    checkpoints.write_config(run_dir, config)  # as last started: what a --resume changed, the next one keeps
    if config["model"] == "dcgan":
        trainer = DCGAN(generator, other, config["learning_rate"], config["beta_1"], config["real_label"],
                        config["separate_batches"], config["generator_steps"], config["mismatched_ages"],
                        config["discriminator_learning_rate"], tuple(filter(None, config["diffaugment"].split(","))),
                        config["instance_noise"], config["ada_target"], config["r1_gamma"], replicas=replicas)
    else:
        trainer = VAE(generator, other, config["learning_rate"], config["beta_1"], seed=config["seed"])
    if resume:
        with replicas.scope():
            checkpoints.restore_optimizers(run_dir, trainer)
        if getattr(trainer, "adaptive", None) and state.get("augment_p") is not None:
            trainer.augment_probability = state["augment_p"]
    return trainer, state


def _generator_average(config, run_dir, resume, generator):
    """The run's GeneratorAverage (`--ema`), or None: the saved one of the run (--resume) or of the --init-from
    folder, else (when --ema is new to the run) a copy of G to start from."""
    if not config["ema"]:
        return None
    source = _starting_models(config, run_dir, resume)
    return GeneratorAverage(generator, config["ema"], source and source.average_generator_path)


def _starting_models(config, run_dir, resume):
    """The SavedModels a run starts from: its own checkpoint on --resume, else the --init-from folder, or None."""
    if resume:
        return model_folder.checkpoint_models(run_dir)
    return None if config["init_from"] is None else model_folder.SavedModels(config["init_from"])


def _sample_input(trainer, seed):
    """The fixed input of the per-epoch sample grid, and its columns: 8x8 faces; for the conditional pair,
    8 rows of one z each, the columns running through the age groups (the same face, older to the right)."""
    noise = trainer.noise(np.random.default_rng([seed, 1]), SAMPLE_GRID)
    if not getattr(trainer, "conditional", False):
        return noise, 8
    noise, conditions, groups = age_sweep(noise[:8])
    return [noise, conditions], groups
