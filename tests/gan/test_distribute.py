"""train.py --distribute: 2 replicas on 2 logical CPUs (FACEGAN_LOGICAL_CPUS=2) and 2 workers on localhost ports.
Logical devices and multi-worker strategies must be set up before TensorFlow starts, so those runs are processes
of their own."""
import json
import os
import re
import socket
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

from facegan import FaceganError
from facegan.gan import distribute, training
from facegan.gan.config import DEFAULTS
from facegan.io import checkpoints, model_folder

from tests.conftest import PYTEST, REPO, TINY

ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}
# One worker of a multi-worker run: trains (or resumes) and leaves its own final weights in a .npz.
WORKER = """
import json, sys
import numpy as np
from facegan.gan import training
config, run, weights, resume = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "resume"
trainer = training.train(config, run, resume=resume)
np.savez(weights, *[w.numpy() for w in trainer.generator.weights + trainer.discriminator.weights])
"""


@pytest.mark.slow
def test_the_replicas_of_the_two_logical_cpus_pass_the_recipe_and_equivalence_checks():
    """tests/gan/two_replicas.py: the snapshot tests under the strategy; 2 x 32 = 1 x 64; BN per replica; a mirrored
    run that checkpoints, resumes and saves plain .h5 files."""
    checks = subprocess.run([sys.executable, *PYTEST, os.path.join(REPO, "tests", "gan", "two_replicas.py")],
                            capture_output=True, text=True, timeout=400, cwd=REPO,
                            env={**ENVIRONMENT, distribute.LOGICAL_CPUS: "2"})
    assert checks.returncode == 0, checks.stdout[-3000:] + checks.stderr[-3000:]
    assert " passed" in checks.stdout and "failed" not in checks.stdout


def test_each_replica_gets_its_slice_of_every_part_of_the_batch():
    real, fakes = np.arange(4), np.arange(10, 14)
    np.testing.assert_array_equal(distribute.joined([real, fakes], 1), [0, 1, 2, 3, 10, 11, 12, 13])
    np.testing.assert_array_equal(distribute.joined([real, fakes], 2), [0, 1, 10, 11, 2, 3, 12, 13])


def test_settings_that_cannot_work_fail_in_one_line(face_folder, tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for changes, message in [({"distribute": "horovod"}, "choose one of none, mirrored, multi-worker"),
                             ({"distribute": "mirrored", "model": "vae"}, "for GAN runs"),
                             ({"distribute": "multi-worker"}, "needs TF_CONFIG")]:
        with pytest.raises(FaceganError, match=message):
            training.train({**DEFAULTS, **TINY, "data": face_folder, **changes}, str(tmp_path / "never"))
    two = distribute.Replicas()
    two.count = 2  # as a strategy of 2 replicas has
    with pytest.raises(FaceganError, match="split evenly across the 2 replicas"):
        two.check_batch(9)


def assert_plain_keras_loads(run):
    """The .h5 contract: float32 Keras models that a bare load_model reads, no trace of the strategy."""
    for name in (model_folder.GENERATOR_FILE, model_folder.DISCRIMINATOR_FILE):
        path = os.path.join(model_folder.checkpoint_dir(run), name)
        with h5py.File(path) as saved:
            assert "Mirrored" not in saved.attrs["model_config"] and "replica" not in saved.attrs["model_config"]
        model = keras.models.load_model(path, compile=False)
        assert all(weight.numpy().dtype == np.float32 for weight in model.weights)
    generator = keras.models.load_model(os.path.join(model_folder.checkpoint_dir(run), model_folder.GENERATOR_FILE))
    assert generator.predict(np.zeros((2, 100), np.float32), verbose=0).shape == (2, 32, 32, 3)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def run_workers(config, run, tmp_path, resume):
    """Both workers of a 2-process cluster on 127.0.0.1, started together; their final weights."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes, weights = [], [str(tmp_path / f"worker{index}.npz") for index in range(2)]
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        processes.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(config), run, weights[index], "resume" if resume else "new"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**ENVIRONMENT, "TF_CONFIG": tf_config}))
    try:
        outputs = [process.communicate(timeout=240)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-4000:]
    return [list(np.load(path).values()) for path in weights], outputs


@pytest.mark.slow
def test_two_workers_on_localhost_train_resume_and_end_with_the_same_weights(face_folder, tmp_path):
    run = str(tmp_path / "run")
    config = {**DEFAULTS, **TINY, "data": face_folder, "batch_size": 8, "epochs": 1,
              "distribute": "multi-worker", "conditional": True}
    run_workers(config, run, tmp_path, resume=False)
    (chief, other), outputs = run_workers({**config, "epochs": 2}, run, tmp_path, resume=True)
    assert all("2 replicas of 4" in output and "epochs 2-2" in output for output in outputs)
    assert len(chief) == len(other) > 0
    for a, b in zip(chief, other):
        np.testing.assert_array_equal(a, b)
    saved = checkpoints.load_model_h5(os.path.join(model_folder.checkpoint_dir(run), model_folder.GENERATOR_FILE))
    for a, b in zip(chief, saved.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert checkpoints.read_state(run)["epoch"] == 2
    assert f"run folder {run}," in outputs[0], "worker 0 is the chief: it writes the run folder"
    scratch = re.search(r"run folder (\S*facegan-worker-\S*),", outputs[1]).group(1)
    assert not os.path.exists(scratch), "the other worker wrote a scratch copy, removed at its end"
