"""The long run: one DCGAN run (or age pair) that every session continues in the background, in a fixed folder
outside the repo, so that no session's cores go unused while the quality targets are short.

    python bench/long_run.py start [--pair aging]    # resume the folder if it is here, else --init-from the shipped
    python bench/long_run.py status                  # images so far, running or not, the log's last line
    python bench/long_run.py stop                    # SIGINT: it saves its checkpoint, then exits
    python bench/long_run.py score                   # FID/KID of its raw G and its average: rows in the CSV

The folder is ~/facegan-long-run (~/facegan-long-run-aging for the pair; $FACEGAN_LONG_RUN overrides the
parent). It saves every --save-every steps, so a kill loses minutes. `score` appends one row for the average
(label long-run) and one for the raw G (long-run-raw) to docs/fid_by_images.csv, counting images from the
shipped weights the folder started from (recorded in its long_run.json).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

# the options measured best so far (docs/training.md). The age pair starts from the shipped DCGAN (its age inputs
# at zero weight), adds what its own study kept (docs/recipe.md), and never sees data/: the aging bench's faces.
PAIRS = {
    "dcgan": {"shipped": "checkpoints/dcgan-utkface-64", "flags": []},
    "aging": {"shipped": "checkpoints/dcgan-utkface-64",
              "flags": ["--conditional", "--mismatched-ages", "--exclude", os.path.join(ROOT, "data")]},
}
FLAGS = ["--diffaugment", "--lr", "5e-5", "--ema", "0.999", "--precision", "bf16"]
SAVE_EVERY = 200  # steps: about 3 minutes at the bf16 rate on 2 cores
EPOCHS = 100_000  # never reached: the run goes on until `stop`
META_FILE = "long_run.json"


def folder(pair):
    parent = os.environ.get("FACEGAN_LONG_RUN", os.path.expanduser("~"))
    return os.path.join(parent, "facegan-long-run" + ("" if pair == "dcgan" else f"-{pair}"))


def _pid(run):
    try:
        with open(os.path.join(run, "pid")) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/stat") as f:
            alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended, its parent not told yet
        return pid if alive else None
    except (OSError, ValueError, IndexError):
        return None


def _commit():
    return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "unknown"


def images_seen(run):
    """Images trained on since the folder's start: the checkpoint's global step times the batch."""
    from facegan.io import checkpoints, model_folder

    state, config = checkpoints.read_state(run), model_folder.read_config(run)
    rows = checkpoints.read_rows(run, "history.csv")
    return (rows[-1]["step"] if rows else 0) * config["batch_size"], state


def start(args):
    from facegan.io import model_folder

    run = folder(args.pair)
    if _pid(run):
        sys.exit(f"{run}: already running (pid {_pid(run)}); `stop` it first")
    command = [sys.executable, os.path.join(ROOT, "train.py"), "--data", args.data, "--out", run,
               "--epochs", str(EPOCHS), "--save-every", str(SAVE_EVERY), *FLAGS, *PAIRS[args.pair]["flags"]]
    if model_folder.checkpoint_dir(run) is not None:
        command.append("--resume")
        print(f"resuming {run}")
    else:
        shipped = os.path.join(ROOT, PAIRS[args.pair]["shipped"])
        command += ["--init-from", shipped]
        os.makedirs(run, exist_ok=True)
        with open(os.path.join(run, META_FILE), "w") as f:
            json.dump({"start": f"{PAIRS[args.pair]['shipped']}@{_commit()}"}, f)
        print(f"starting {run} from {shipped}")
    with open(os.path.join(run, "train.log"), "a") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=ROOT, start_new_session=True)  # SIGINT not ignored, unlike `cmd &`
    with open(os.path.join(run, "pid"), "w") as f:
        f.write(str(process.pid))
    print(f"pid {process.pid}, log {os.path.join(run, 'train.log')}")


def status(args):
    run = folder(args.pair)
    pid = _pid(run)
    print(f"{run}: {'running, pid %d' % pid if pid else 'not running'}")
    if os.path.isfile(os.path.join(run, "history.csv")):
        print(f"images since the start: {images_seen(run)[0]:,}")
    log = os.path.join(run, "train.log")
    if os.path.isfile(log):
        with open(log) as f:
            steps = [line.strip() for line in f if " steps, " in line]  # progress lines, not TensorFlow's
        print(steps[-1] if steps else "")


def stop(args):
    run = folder(args.pair)
    pid = _pid(run)
    if not pid:
        print(f"{run}: not running")
        return
    os.kill(pid, signal.SIGINT)  # finishes the step, saves a checkpoint, exits 130
    for _ in range(600):
        if _pid(run) is None:
            break
        time.sleep(1)
    print(f"stopped; {status(args) or ''}".rstrip("; "))


def score(args):
    from facegan.io import model_folder
    from fid_by_images import CSV, append_row, plot

    run = folder(args.pair)
    if _pid(run):
        sys.exit(f"{run}: still running; `stop` it first")
    images, state = images_seen(run)
    with open(os.path.join(run, META_FILE)) as f:
        start_from = json.load(f)["start"]
    flags = " ".join(FLAGS + PAIRS[args.pair]["flags"])
    saved = model_folder.checkpoint_dir(run)
    for label, name in (("long-run", model_folder.EMA_GENERATOR_FILE), ("long-run-raw", model_folder.GENERATOR_FILE)):
        label = label if args.pair == "dcgan" else f"{label}-{args.pair}"
        append_row(os.path.join(saved, name), label, flags, start_from, images, args.real, args.n, CSV)
    plot(CSV, os.path.join(ROOT, "docs", "fid_by_images.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "status", "stop", "score"))
    parser.add_argument("--pair", choices=tuple(PAIRS), default="dcgan", help="which model the run trains")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "utkface"),
                        help="the faces it trains on")
    parser.add_argument("--real", default=os.path.join(ROOT, "data"), help="`score`: the real faces to compare with")
    parser.add_argument("--n", type=int, default=1000, help="`score`: faces per FID")
    args = parser.parse_args()
    {"start": start, "status": status, "stop": stop, "score": score}[args.action](args)


if __name__ == "__main__":
    main()
