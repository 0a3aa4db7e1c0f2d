"""bench/long_run.py: resume the folder when it holds a checkpoint, else start from the shipped weights; stop by
SIGINT and wait for the process to end (training's own Ctrl-C saving is tested in test_training.py)."""
import argparse
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, os.path.join(REPO, "bench"))
import long_run  # noqa: E402


@pytest.fixture
def launched(tmp_path, monkeypatch):
    """The (command, Popen options) that `start` would run, captured instead of run."""
    monkeypatch.setenv("FACEGAN_LONG_RUN", str(tmp_path))
    commands = []
    real_popen = subprocess.Popen

    def popen(command, **options):
        if os.path.join(REPO, "train.py") not in command:
            return real_popen(command, **options)
        commands.append((command, options))
        return argparse.Namespace(pid=2 ** 22 + 1)  # above pid_max's default: no such process

    monkeypatch.setattr(long_run.subprocess, "Popen", popen)
    monkeypatch.setattr(long_run, "_commit", lambda: "abc1234")
    return commands


def _last_value(command, flag):
    """The value of `flag`'s last occurrence: the one argparse keeps."""
    return command[len(command) - command[::-1].index(flag)]


def _args(action, pair="dcgan", arm=None, cpu=None, latest=False, at=None):
    return argparse.Namespace(action=action, pair=pair, arm=arm, cpu=cpu, data="faces", real="data", n=10,
                              latest=latest, at=at)


def test_start_begins_from_the_shipped_weights_and_records_them(launched, tmp_path):
    long_run.start(_args("start"))
    command, _options = launched[0]
    assert command[command.index("--init-from") + 1] == os.path.join(REPO, "checkpoints", "dcgan-utkface-64")
    assert "--resume" not in command
    assert {"--diffaugment", "--ema", "--save-every"} <= set(command)
    with open(tmp_path / "facegan-long-run" / long_run.META_FILE) as f:
        assert json.load(f) == {"start": "checkpoints/dcgan-utkface-64@abc1234",
                                "flags": long_run.PAIRS["dcgan"]["flags"]}


def test_start_resumes_a_folder_that_holds_a_checkpoint(launched, tmp_path):
    saved = tmp_path / "facegan-long-run-aging" / "checkpoint"
    saved.mkdir(parents=True)
    (saved / "state.json").write_text('{"epoch": 3, "step": 10, "rng": null}')
    (saved.parent / long_run.META_FILE).write_text('{"start": "shipped@0000000", "flags": ["--lr", "1"]}')
    long_run.start(_args("start", pair="aging"))
    command, _options = launched[0]
    assert "--resume" in command and "--init-from" not in command
    assert {"--conditional", "--mismatched-ages"} <= set(command)
    assert command[command.index("--exclude") + 1] == os.path.join(REPO, "data")  # the aging bench's faces
    assert command[command.index("--out") + 1] == str(tmp_path / "facegan-long-run-aging")
    with open(tmp_path / "facegan-long-run-aging" / long_run.META_FILE) as f:  # the start kept, today's flags
        assert json.load(f) == {"start": "shipped@0000000", "flags": long_run.flags(_args("start", pair="aging"))}


def test_the_age_pair_continues_the_shipped_pair_never_seeing_the_bench_faces(launched):
    long_run.start(_args("start", pair="aging"))
    command, _options = launched[0]
    assert command[command.index("--init-from") + 1] == os.path.join(REPO, "checkpoints", "aging-utkface-64")
    assert command[command.index("--exclude") + 1] == os.path.join(REPO, "data")
    assert "--diffaugment" not in command and "--mismatched-ages" in command  # the recipe that made the pair


def test_an_arm_changes_one_flag_and_stops_after_its_epochs(launched, tmp_path):
    long_run.start(_args("start", arm="lr1e-4"))
    command, _options = launched[0]
    assert command[command.index("--out") + 1] == str(tmp_path / "facegan-long-run-arm-lr1e-4")
    assert command[command.index("--epochs") + 1] == str(long_run.ARM_EPOCHS)
    assert _last_value(command, "--lr") == "1e-4"
    assert command[command.index("--keep-every") + 1] == "1" and "--init-from" in command


def test_an_arm_of_the_age_pair_starts_from_the_shipped_pair_with_its_own_flags(launched, tmp_path):
    long_run.start(_args("start", pair="aging", arm="nocolor"))
    command, _options = launched[0]
    assert command[command.index("--out") + 1] == str(tmp_path / "facegan-long-run-aging-arm-nocolor")
    assert command[command.index("--init-from") + 1] == os.path.join(REPO, "checkpoints", "aging-utkface-64")
    assert _last_value(command, "--diffaugment") == "translation,cutout"
    assert {"--conditional", "--mismatched-ages"} <= set(command)


def test_cpu_keeps_the_run_on_that_core_with_one_thread(launched):
    long_run.start(_args("start"))
    long_run.start(_args("start", arm="r1", cpu=1))
    _command, unpinned = launched[0]
    _command, pinned = launched[1]
    assert "env" not in unpinned and "preexec_fn" not in unpinned
    assert pinned["env"]["OMP_NUM_THREADS"] == pinned["env"]["TF_NUM_INTRAOP_THREADS"] == "1"
    child = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
                           preexec_fn=pinned["preexec_fn"], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "[1]"


def _run_with_points(run):
    """A stopped run's folder: epochs 1 and 2 kept, the checkpoint mid-epoch 3, batch 8 (points at 16, 32, 40)."""
    (run / "checkpoint").mkdir(parents=True)
    (run / "checkpoint" / "state.json").write_text('{"epoch": 2, "step": 1, "rng": null}')
    (run / "config.json").write_text('{"batch_size": 8}')
    (run / "history.csv").write_text("epoch,step\n" + "".join(f"{e},{s}\n" for e, s in
                                                              [(1, 1), (1, 2), (2, 3), (2, 4), (3, 5)]))
    for name in ("epoch_001", "epoch_002", "epoch_003.new"):
        (run / "snapshots" / name).mkdir(parents=True)


def test_points_are_the_kept_epochs_then_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    _run_with_points(run)
    assert long_run.points(str(run)) == [(16, str(run / "snapshots" / "epoch_001")),
                                         (32, str(run / "snapshots" / "epoch_002")),
                                         (40, str(run / "checkpoint"))]
    assert long_run.points(str(run), running=True)[-1] == (32, str(run / "snapshots" / "epoch_002"))


def test_stop_sends_sigint_and_waits_for_the_run_to_save_and_end(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEGAN_LONG_RUN", str(tmp_path))
    run = tmp_path / "facegan-long-run"
    run.mkdir()
    saved = run / "saved"
    # a stand-in for train.py: on SIGINT it writes its file, then exits
    child = subprocess.Popen([sys.executable, "-c", f"""
import signal, sys, time
def save(*_):
    open({str(saved)!r}, "w").write("saved")
    sys.exit(130)
signal.signal(signal.SIGINT, save)
print("ready", flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, start_new_session=True)
    assert child.stdout.readline().strip() == b"ready"
    (run / "pid").write_text(str(child.pid))
    long_run.stop(_args("stop"))
    assert child.wait(timeout=5) == 130
    assert saved.read_text() == "saved"


def test_score_takes_the_newest_point_the_points_asked_for_or_every_one_not_yet_scored(tmp_path, monkeypatch):
    import fid_by_images

    monkeypatch.setenv("FACEGAN_LONG_RUN", str(tmp_path))
    run = tmp_path / "facegan-long-run"
    _run_with_points(run)
    (run / long_run.META_FILE).write_text('{"start": "shipped@abc1234", "flags": ["--lr", "1"]}')
    for saved in ("snapshots/epoch_001", "snapshots/epoch_002", "checkpoint"):
        for name in ("generator", "generator_ema"):
            (run / saved / f"{name}.h5").write_text("")
    csv_path = tmp_path / "fid.csv"
    csv_path.write_text("label,flags,start,images,n,fid,kid,kid_std\n"
                        "long-run,f,shipped@abc1234,16,10,50,0.02,0.001\n")
    scored = []
    monkeypatch.setattr(fid_by_images, "CSV", str(csv_path))
    monkeypatch.setattr(fid_by_images, "plot", lambda *_: None)
    flags_written = set()

    def append_row(path, label, flags, start, images, *_):
        scored.append((label, images))
        flags_written.add(flags)

    monkeypatch.setattr(fid_by_images, "append_row", append_row)
    long_run.score(_args("score", latest=True))
    assert scored == [("long-run", 40), ("long-run-raw", 40)]
    scored.clear()
    long_run.score(_args("score"))
    assert scored == [("long-run-raw", 16), ("long-run", 32), ("long-run-raw", 32), ("long-run", 40),
                      ("long-run-raw", 40)]
    scored.clear()
    long_run.score(_args("score", at=[32]))
    assert scored == [("long-run", 32), ("long-run-raw", 32)]
    assert flags_written == {"--lr 1"}  # the run's own, from its long_run.json, not today's flags
    with pytest.raises(SystemExit) as exit_:
        long_run.score(_args("score", at=[32, 33]))
    assert exit_.value.code == 2


def test_a_core_the_machine_lacks_is_refused_with_exit_2_before_anything_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEGAN_LONG_RUN", str(tmp_path))
    result = subprocess.run([sys.executable, os.path.join(REPO, "bench", "long_run.py"), "start", "--cpu", "4096"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--cpu 4096: not one of this process's cores" in result.stderr
    assert os.listdir(tmp_path) == []


def test_ship_puts_the_better_scored_generator_and_d_at_half_the_bytes_and_drops_what_was_fit_to_the_old_g(
        saved_models, tmp_path, monkeypatch, capsys):
    import h5py
    import numpy as np

    import fid_by_images
    from facegan.io import model_folder, weights

    monkeypatch.setenv("FACEGAN_LONG_RUN", str(tmp_path))
    run, shipped = tmp_path / "facegan-long-run", tmp_path / "shipped"
    _run_with_points(run)
    (run / long_run.META_FILE).write_text('{"start": "shipped@abc1234"}')
    for name, source in (("generator", "conditional"), ("generator_ema", "generator"),
                         ("discriminator", "discriminator")):
        shutil.copyfile(saved_models / f"{source}.h5", run / "checkpoint" / f"{name}.h5")
    shipped.mkdir()
    for stale in ("generator_ema.h5", "latent_encoder.h5", "gender_reader.npz"):
        (shipped / stale).write_text("fit to the old G")
    monkeypatch.setattr(model_folder, "SHIPPED_DIR", str(shipped))
    csv_path = tmp_path / "fid.csv"
    monkeypatch.setattr(fid_by_images, "CSV", str(csv_path))
    csv_path.write_text("label,flags,start,images,n,fid,kid,kid_std\n"
                        "long-run,f,shipped@abc1234,32,10,40,0.02,0.001\n")
    with pytest.raises(SystemExit) as exit_:
        long_run.ship(_args("ship"))  # the checkpoint, at 40 images, is not scored
    assert exit_.value.code == 2 and "not scored; `score --latest` it first" in capsys.readouterr().err
    assert sorted(os.listdir(shipped)) == ["gender_reader.npz", "generator_ema.h5", "latent_encoder.h5"]
    with open(csv_path, "a") as f:
        f.write("long-run,f,shipped@abc1234,40,10,45.5,0.02,0.001\nlong-run-raw,f,shipped@abc1234,40,10,47,0.02,0.001\n")
    long_run.ship(_args("ship"))
    assert sorted(os.listdir(shipped)) == ["discriminator.h5", "generator.h5"]
    assert "facegan train-encoder --checkpoint " + os.path.relpath(shipped) in capsys.readouterr().out
    average = weights.load_model_h5(str(saved_models / "generator.h5")).get_weights()
    for before, after in zip(average, weights.load_model_h5(str(shipped / "generator.h5"), "generator").get_weights()):
        np.testing.assert_array_equal(after, before.astype(np.float16).astype(np.float32))
    weights.load_model_h5(str(shipped / "discriminator.h5"), "discriminator")
    with h5py.File(shipped / "discriminator.h5", "r") as f:
        stored = set()
        f["model_weights"].visititems(lambda _name, item: stored.add(getattr(item, "dtype", None)))
        assert stored == {None, np.dtype("float16")}  # groups, and weights in float16
    model_folder.SavedModels(str(shipped)).check_init_from()  # what a new long run starts from


def test_ship_refuses_a_running_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACEGAN_LONG_RUN", str(tmp_path))
    run = tmp_path / "facegan-long-run"
    run.mkdir()
    (run / "pid").write_text(str(os.getpid()))
    with pytest.raises(SystemExit) as exit_:
        long_run.ship(_args("ship"))
    assert exit_.value.code == 2 and "still running; `stop` it first" in capsys.readouterr().err
