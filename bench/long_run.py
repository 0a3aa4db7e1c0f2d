"""The long run: one DCGAN run (or age pair) that every session continues in the background, in a fixed folder
outside the repo, so that no session's cores go unused while the quality targets are short.

    python bench/long_run.py start [--pair aging]    # resume the folder if it is here, else --init-from the shipped
    python bench/long_run.py status                  # images so far, running or not, the log's last line
    python bench/long_run.py stop                    # SIGINT: it saves its checkpoint, then exits
    python bench/long_run.py score                   # FID/KID of its raw G and average (snapshots only, if running)
    python bench/long_run.py start --arm lr1e-4      # an arm: one option changed, ARM_EPOCHS from the shipped
    python bench/long_run.py start --pair aging --cpu 1   # two runs side by side: each on a core of its own
    python bench/long_run.py score --latest          # its newest point only
    python bench/long_run.py score --at 525312       # the points at these images (the control of an arm, say)
    python bench/long_run.py ship                    # its scored checkpoint into the shipped folder, half the bytes

The folder is ~/facegan-long-run (~/facegan-long-run-aging for the pair, ~/facegan-long-run-arm-NAME for an arm;
$FACEGAN_LONG_RUN overrides the parent). It saves every --save-every steps, so a kill loses minutes, and keeps
each epoch's generators (--keep-every 1, about 22,000 images apart): the points of its curve. `score` appends,
for the checkpoint and each snapshot not yet scored, one row for the average (label long-run) and one for the raw
G (long-run-raw) to docs/fid_by_images.csv, counting images from the shipped weights the folder started from
(recorded in its long_run.json).
"""
import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

# the options measured best so far (docs/training.md), each pair's whole set. The age pair never sees data/ (the
# aging bench's faces) and keeps the recipe that made the shipped pair (the model card): DiffAugment, kept for the
# DCGAN, cost the age pair the person on that bench at every strength (docs/training.md#the-age-pairs-long-run).
# "shipped": what a new folder starts from; "refit": the commands that fit to a shipped G what it needs beside it.
PAIRS = {
    "dcgan": {"shipped": "checkpoints/dcgan-utkface-64",
              "refit": [["train-encoder", "--encoder-steps", "3000"]],
              "flags": ["--diffaugment", "--lr", "2.5e-5", "--ema", "0.999", "--precision", "bf16", "--keep-every",
                        "1"]},
    "aging": {"shipped": "checkpoints/aging-utkface-64",
              "refit": [["train-encoder", "--encoder-steps", "1500", "--filters", "64"],
                        ["fit-gender", "--data", "FACES", "--exclude", "data"],
                        ["fit-strengths", "--data", "FACES", "--exclude", "data"]],
              "flags": ["--conditional", "--mismatched-ages", "--exclude", os.path.join(ROOT, "data"), "--ema",
                        "0.998", "--precision", "bf16", "--keep-every", "1"]},
}
# Arms: one question each, asked against the long run by changing one of its flags (argparse keeps the last)
ARMS = {"lr1e-4": ["--lr", "1e-4"], "ema0.995": ["--ema", "0.995"], "ada": ["--ada-target", "0.6"],
        "batch128": ["--batch-size", "128"], "r1": ["--r1-gamma", "0.013"],
        # for the plateau at FID 42 from 1.07M images on: a smaller step (adopted: now the run's own), a longer average,
        # and half the step again (asked again at the plateau at 35, from the weights shipped at 35.7: no better)
        "lr2.5e-5": ["--lr", "2.5e-5"], "ema0.9995": ["--ema", "0.9995"], "lr1.25e-5": ["--lr", "1.25e-5"],
        # for the age pair (--pair aging), which loses the person as it trains on: D blind to colour shifts may push
        # G to show age by shape, which the person is made of, rather than by skin and hair tone (it does not:
        # docs/training.md#the-age-pairs-long-run)
        "nocolor": ["--diffaugment", "translation,cutout"]}
ARM_EPOCHS = 5  # 109,440 images of UTKFace, a point every 21,888
SAVE_EVERY = 200  # steps: about 3 minutes at the bf16 rate on 2 cores
EPOCHS = 100_000  # never reached: the run goes on until `stop`
META_FILE = "long_run.json"


def folder(pair, arm=None):
    parent = os.environ.get("FACEGAN_LONG_RUN", os.path.expanduser("~"))
    return os.path.join(parent, "facegan-long-run" + ("" if pair == "dcgan" else f"-{pair}")
                        + (f"-arm-{arm}" if arm else ""))


def flags(args):
    return PAIRS[args.pair]["flags"] + ARMS.get(args.arm, [])


def label(args, raw):
    name = f"arm-{args.arm}" if args.arm else "long-run"
    return name + ("-raw" if raw else "") + ("" if args.pair == "dcgan" else f"-{args.pair}")


def refuse(problem):
    """A one-line error, exit 2: nothing was started, stopped, scored or shipped."""
    print(problem, file=sys.stderr)
    sys.exit(2)


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
    from facegan.io import files, model_folder

    run = folder(args.pair, args.arm)
    if _pid(run):
        refuse(f"{run}: already running (pid {_pid(run)}); `stop` it first")
    command = [sys.executable, os.path.join(ROOT, "train.py"), "--data", args.data, "--out", run,
               "--epochs", str(ARM_EPOCHS if args.arm else EPOCHS), "--save-every", str(SAVE_EVERY), *flags(args)]
    if model_folder.checkpoint_dir(run) is not None:
        command.append("--resume")
        meta = read_meta(run)
        print(f"resuming {run}")
    else:
        shipped = os.path.join(ROOT, PAIRS[args.pair]["shipped"])
        command += ["--init-from", shipped]
        os.makedirs(run, exist_ok=True)
        meta = {"start": f"{PAIRS[args.pair]['shipped']}@{_commit()}"}
        print(f"starting {run} from {shipped}")
    meta["flags"] = flags(args)  # what its rows in the CSV say it trained with, from this start on
    with files.replaced_atomically(os.path.join(run, META_FILE)) as temporary, open(temporary, "w") as f:
        json.dump(meta, f)
    with open(os.path.join(run, "train.log"), "a") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=ROOT, start_new_session=True,  # SIGINT not ignored, unlike `cmd &`
                                   **({} if args.cpu is None else on_one_core(args.cpu)))
    with open(os.path.join(run, "pid"), "w") as f:
        f.write(str(process.pid))
    print(f"pid {process.pid}, log {os.path.join(run, 'train.log')}")


def read_meta(run):
    """{"start": the shipped folder@commit it began from, "flags": its flags since its latest `start`}."""
    with open(os.path.join(run, META_FILE)) as f:
        return json.load(f)


def on_one_core(cpu):
    """Popen options that keep a run on core `cpu` with one thread: two runs side by side on 2 cores, each on its
    own, trained 67 img/s together where two unpinned runs, each spreading threads over both, trained 60."""
    one_thread = {name: "1" for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
    return {"env": {**os.environ, **one_thread}, "preexec_fn": lambda: os.sched_setaffinity(0, {cpu})}


def status(args):
    run = folder(args.pair, args.arm)
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
    run = folder(args.pair, args.arm)
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


def points(run, running=False):
    """(images since the start, saved folder) of each kept snapshot and (unless it is running, when the
    checkpoint may be mid-write) of the checkpoint, oldest first."""
    from facegan.io import checkpoints, model_folder

    batch = model_folder.read_config(run)["batch_size"]
    epoch_ends = {row["epoch"]: row["step"] for row in checkpoints.read_rows(run, "history.csv")}
    found = {epoch_ends[epoch] * batch: saved for epoch, saved in model_folder.kept_snapshots(run).items()
             if epoch in epoch_ends}
    if not running:
        found.setdefault(images_seen(run)[0], model_folder.checkpoint_dir(run))
    return sorted(found.items())


def score(args):
    from facegan.io import model_folder
    from fid_by_images import CSV, append_row, plot

    run = folder(args.pair, args.arm)
    if _pid(run):
        print(f"{run}: still running, so only its kept snapshots are scored; `stop` it to score its checkpoint")
    meta = read_meta(run)
    start_from = meta["start"]
    with open(CSV, newline="") as f:
        scored = {(row["label"], row["start"], int(row["images"])) for row in csv.DictReader(f)}
    chosen = points(run, running=bool(_pid(run)))
    if args.at:
        missing = sorted(set(args.at) - {images for images, _ in chosen})
        if missing:
            refuse(f"{run}: no kept point at {missing} images; its points: {[images for images, _ in chosen]}")
        chosen = [(images, saved) for images, saved in chosen if images in args.at]
    for images, saved in chosen[-1 if args.latest else 0:]:
        models = model_folder.SavedModels(saved)
        for raw, path in ((False, models.average_generator_path), (True, models.raw_generator_path)):
            if (label(args, raw), start_from, images) not in scored and path and os.path.isfile(path):
                append_row(path, label(args, raw), " ".join(meta["flags"]), start_from, images, args.real, args.n, CSV)
    plot(CSV, os.path.join(ROOT, "docs", "fid_by_images.png"))


def ship(args):
    """Puts the stopped run's checkpoint into its shipped folder as every clone will carry it: the better scored
    of its average and raw G as generator.h5, and D, both with float16 weights (half the bytes; they load as
    float32). One generator only: `--init-from` starts G and its average from it. The files fit to the old G
    (encoder, gender reader, strength table) go, and the commands that fit them again are printed."""
    from facegan.io import model_folder, weights
    from fid_by_images import CSV

    run = folder(args.pair, args.arm)
    if _pid(run):
        refuse(f"{run}: still running; `stop` it first, then `score --latest` it")
    saved = model_folder.checkpoint_dir(run)
    if saved is None:
        refuse(f"{run}: no checkpoint to ship")
    images = images_seen(run)[0]
    start_from = read_meta(run)["start"]
    with open(CSV, newline="") as f:
        fids = {row["label"]: float(row["fid"]) for row in csv.DictReader(f)
                if row["start"] == start_from and int(row["images"]) == images}
    models = model_folder.SavedModels(saved)
    scored = {fids[label(args, raw)]: path for raw, path in ((False, models.average_generator_path),
                                                              (True, models.raw_generator_path))
              if path and label(args, raw) in fids}
    if not scored:
        refuse(f"{run}: its checkpoint at {images:,} images is not scored; `score --latest` it first")
    target = model_folder.SHIPPED_AGING_DIR if args.pair == "aging" else model_folder.SHIPPED_DIR
    shipped = model_folder.SavedModels(target)
    weights.save_half_h5(scored[min(scored)], shipped.raw_generator_path)
    weights.save_half_h5(models.discriminator_path, shipped.discriminator_path)
    for name in (model_folder.EMA_GENERATOR_FILE, model_folder.ENCODER_FILE, model_folder.READER_FILE,
                 model_folder.TABLE_FILE):
        if os.path.isfile(os.path.join(target, name)):
            os.remove(os.path.join(target, name))
    print(f"shipped {os.path.basename(scored[min(scored)])} at {images:,} images (FID {min(scored)}) and D into "
          f"{target}; now fit to it:")
    for name, *options in PAIRS[args.pair]["refit"]:
        print(" ".join(["  facegan", name, "--checkpoint", os.path.relpath(target), *options]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "status", "stop", "score", "ship"))
    parser.add_argument("--pair", choices=tuple(PAIRS), default="dcgan", help="which model the run trains")
    parser.add_argument("--arm", choices=tuple(ARMS), help="an arm of the study instead of the run itself: the run's "
                                                           f"flags with one changed, {ARM_EPOCHS} epochs from the "
                                                           "shipped weights")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "utkface"),
                        help="the faces it trains on")
    parser.add_argument("--real", default=os.path.join(ROOT, "data"), help="`score`: the real faces to compare with")
    parser.add_argument("--n", type=int, default=1000, help="`score`: faces per FID")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--latest", action="store_true", help="`score`: its newest point only, not every one unscored")
    which.add_argument("--at", type=int, nargs="+", metavar="IMAGES",
                       help="`score`: only the points at these images since the start")
    parser.add_argument("--cpu", type=int, help="`start`: keep the run on this core, one thread (for two runs side by "
                                                "side), instead of all cores")
    args = parser.parse_args()
    if args.cpu is not None and args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu {args.cpu}: not one of this process's cores {sorted(os.sched_getaffinity(0))}")
    {"start": start, "status": status, "stop": stop, "score": score, "ship": ship}[args.action](args)


if __name__ == "__main__":
    main()
