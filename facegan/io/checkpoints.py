"""Run folders and crash-safe checkpoints.

A run folder holds `config.json`, `history.csv`, `losses.png`, `samples/` and `checkpoint/`, which holds
`generator.h5`, `discriminator.h5`, `optimizers.npz` (both Adam states), `state.json` (epoch, step, RNG) and,
with `train.py --ema`, `generator_ema.h5`; with `--keep-every`, `snapshots/epoch_NNN/` keeps copies of the generators.

A checkpoint is written whole into `checkpoint.new/`, then swapped in by two renames, so a kill at any moment
leaves a complete checkpoint: `checkpoint/`, or `checkpoint.old/` if the kill fell between the renames.
"""
import csv
import json
import os
import shutil

import numpy as np

from facegan import FaceganError
from facegan.io.files import replaced_atomically
from facegan.io.model_folder import (AVERAGE_GENERATOR, CHECKPOINT, CONFIG_FILE, GENERATOR, STATE_FILE, SavedModels,
                                     checkpoint_dir, checkpoint_models, snapshot_dir)
from facegan.io.weights import load_model_h5, model_profile, save_model_h5

OPTIMIZERS_FILE = "optimizers.npz"


def _optimizer_arrays(prefix, optimizer):
    return {f"{prefix}/{index}": variable.numpy() for index, variable in enumerate(optimizer.variables)}


def _restore_optimizer(optimizer, trained_weights, arrays, prefix):
    optimizer.build(trained_weights)
    saved = [arrays[key] for key in sorted((k for k in arrays if k.startswith(prefix + "/")),
                                           key=lambda k: int(k.split("/")[1]))]
    if len(saved) != len(optimizer.variables):
        raise FaceganError(f"{prefix} optimizer state has {len(saved)} arrays, the model needs "
                           f"{len(optimizer.variables)}: the checkpoint belongs to another model")
    for variable, value in zip(optimizer.variables, saved):
        if variable.name != "learning_rate":  # the run's --lr, which a --resume may have changed
            variable.assign(value)


def save_checkpoint(run_dir, trainer, state, extra_models=None):
    """Writes every model of `trainer` (a DCGAN or a VAE) and of `extra_models` ({model name: model}, e.g.
    AVERAGE_GENERATOR), the trainer's optimizer states and `state` (a JSON-able dict) as one all-or-nothing
    checkpoint."""
    final = os.path.join(run_dir, CHECKPOINT)
    new, old = final + ".new", final + ".old"
    shutil.rmtree(new, ignore_errors=True)
    os.makedirs(new)
    for name, model in {**trainer.models, **(extra_models or {})}.items():
        save_model_h5(model, SavedModels(new).path(name))
    np.savez(os.path.join(new, OPTIMIZERS_FILE),
             **{key: value for name, (optimizer, _weights) in trainer.optimizers.items()
                for key, value in _optimizer_arrays(name, optimizer).items()})
    with open(os.path.join(new, STATE_FILE), "w") as f:
        json.dump(state, f)
    for name in os.listdir(new):
        with open(os.path.join(new, name), "rb") as f:
            os.fsync(f.fileno())
    if os.path.isdir(final):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
    os.rename(new, final)
    shutil.rmtree(old, ignore_errors=True)


def keep_snapshot(run_dir, epoch):
    """Copies the checkpoint's generator (and its average) to `snapshots/epoch_NNN/`, whole or not at all: the
    points of a learning curve, or a generator to go back to."""
    source = checkpoint_models(run_dir)
    final = snapshot_dir(run_dir, epoch)
    new = final + ".new"
    shutil.rmtree(new, ignore_errors=True)
    os.makedirs(new)
    for name in (GENERATOR, AVERAGE_GENERATOR):
        if os.path.isfile(source.path(name)):
            shutil.copyfile(source.path(name), SavedModels(new).path(name))
    shutil.rmtree(final, ignore_errors=True)
    os.rename(new, final)
    return final


def load_checkpoint(run_dir, names=("generator", "discriminator")):
    """The named models of a run's checkpoint, then its state: (generator, discriminator, state) by default."""
    state = read_state(run_dir)
    saved = checkpoint_models(run_dir)
    return (*(load_model_h5(saved.path(name)) for name in names), state)


def read_state(run_dir):
    """Epoch, step and RNG state of a run's checkpoint."""
    path = checkpoint_dir(run_dir)
    if path is None:
        raise FaceganError(f"{run_dir}: no checkpoint to resume from")
    with open(os.path.join(path, STATE_FILE)) as f:
        return json.load(f)


def restore_optimizers(run_dir, trainer):
    """Puts the saved Adam moments back into a freshly compiled `trainer`, before its first step."""
    with np.load(os.path.join(checkpoint_dir(run_dir), OPTIMIZERS_FILE)) as arrays:
        arrays = dict(arrays)
    for name, (optimizer, weights) in trainer.optimizers.items():
        _restore_optimizer(optimizer, weights, arrays, name)


def start_from(model, source_path):
    """Copies the weights of a saved model (a .h5) into a fresh `model`, so a run can start from another run's
    or the shipped weights. Where `model` has more than the source, the extra starts at zero, so that it has no
    say at first and is learnt from there: extra input rows of a layer (the age group fed to the conditional
    generator beside z) and extra weights between the source's (the projection discriminator's age embedding)."""
    wanted = model_profile(model)  # a plain source may start a conditional model, not the reverse
    source = load_model_h5(source_path, wanted["kind"], False if not wanted["conditional"] else None,
                           wanted["image_size"])
    source = [weight.numpy() for weight in source.weights]
    copied, misfit = 0, None
    for weight in model.weights:
        new = tuple(weight.shape)
        value = source[copied] if copied < len(source) else None
        old = None if value is None else value.shape
        if old == new:
            weight.assign(value)
        elif old is not None and len(old) == len(new) >= 2 and old[:-2] == new[:-2] and old[-1] == new[-1] \
                and old[-2] < new[-2]:
            weight.assign(np.concatenate([value, np.zeros(old[:-2] + (new[-2] - old[-2], old[-1]), value.dtype)],
                                         -2))
        else:
            weight.assign(np.zeros(new, weight.dtype))
            misfit = misfit or f"its array {copied + 1} is {old}, {model.name}'s {weight.path} is {new}"
            continue
        copied += 1
    if copied < len(source):
        raise FaceganError(f"{source_path}: only {copied} of its {len(source)} weight arrays fit {model.name} ("
                           f"{misfit or 'it has more'}): not the same architecture (check --image-size, --filters)")


def read_rows(run_dir, name):
    """The rows of a run's CSV log (history.csv, quality.csv), epoch and step as ints, the rest as floats."""
    path = os.path.join(run_dir, name)
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [{key: int(value) if key in ("epoch", "step") else float(value) for key, value in row.items()}
                for row in csv.DictReader(f)]


def write_rows(run_dir, name, rows):
    """Replaces a run's CSV log whole, so a kill leaves the old one or the new one."""
    with replaced_atomically(os.path.join(run_dir, name)) as temporary, open(temporary, "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]) if rows else ["epoch", "step"])
        writer.writeheader()
        writer.writerows(rows)


def write_config(run_dir, config):
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, CONFIG_FILE), "w") as f:
        json.dump(config, f, indent=2)
