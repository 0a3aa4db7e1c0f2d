"""Faults: a training run killed with SIGKILL at random moments, within checkpoint writes too, always resumes
from a complete checkpoint, loses at most --save-every steps and ends with the weights of an uninterrupted run."""
import csv
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from facegan.gan import training
from facegan.io import checkpoints, model_folder

from tests.conftest import REPO, write_faces


COUNTING_TRAINER = """
import sys
from facegan.cli import main
from facegan.gan import recipe

step = recipe.DCGAN.train_step

def counted(*arguments):
    metrics = step(*arguments)
    print("step", flush=True)  # what the test counts as progress
    return metrics

recipe.DCGAN.train_step = counted
sys.exit(main(["train", *sys.argv[1:]]))
"""


@pytest.mark.slow
def test_kill_9_at_random_moments_always_resumes_losing_at_most_save_every_steps(tmp_path):
    faces = write_faces(str(tmp_path / "faces"), 12)
    run, new, save_every, epochs = str(tmp_path / "run"), str(tmp_path / "run" / "checkpoint.new"), 2, 12
    steps_per_epoch = 3  # 12 faces, 4 a batch
    tiny = ["--data", faces, "--image-size", "32", "--filters", "4", "--batch-size", "4", "--epochs", str(epochs)]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}
    rng, saved, caught_writing = np.random.default_rng(), 0, 0
    for kill in range(5):
        arguments = ["--resume", "--out", run] if kill else [*tiny, "--out", run, "--save-every", str(save_every)]
        process = subprocess.Popen([sys.executable, "-c", COUNTING_TRAINER, *arguments], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True, env=environment)
        steps, wanted = 0, rng.integers(1, 4)
        for line in iter(process.stdout.readline, ""):  # a few steps in, then
            steps += line == "step\n"
            if steps == wanted:
                break
        while not kill and model_folder.checkpoint_dir(run) is None and process.poll() is None:
            time.sleep(0.001)  # before its first checkpoint a run has nothing to resume from
        assert process.poll() is None, "the run ended before its kill"
        begun = time.time_ns()
        if kill % 2:  # ... while it writes a checkpoint
            while not (os.path.exists(new) and os.stat(new).st_mtime_ns > begun) and process.poll() is None:
                time.sleep(0.001)
        else:  # ... at a random moment
            time.sleep(rng.uniform(0, 0.2))
        process.kill()
        progress = saved + steps + process.stdout.read().count("step\n")
        process.wait()
        caught_writing += os.path.exists(new)
        state = checkpoints.read_state(run)
        checkpoints.load_checkpoint(run)  # complete and readable, whenever the kill fell
        saved, before = state["epoch"] * steps_per_epoch + state["step"], saved
        assert before <= saved <= progress and progress - saved <= save_every, (before, saved, progress)
    assert caught_writing >= 1, "no kill fell within a checkpoint write"
    epochs = state["epoch"] + 1  # the last resume finishes the epoch it is in, as a run of that many would
    training.train({**model_folder.read_config(run), "epochs": epochs}, run, resume=True)
    with open(os.path.join(run, "history.csv")) as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == list(range(1, steps_per_epoch * epochs + 1))
    straight = str(tmp_path / "straight")
    training.train({**model_folder.read_config(run), "save_every": 0}, straight)  # the same run, never stopped
    for a, b in zip(*(checkpoints.load_checkpoint(folder)[0].weights for folder in (straight, run))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
