"""The long run's continuation on a lent GPU machine (JAX or PyTorch with CUDA; no TensorFlow, no Keras, no
network): the shipped DCGAN trained further with the long run's options (bench/long_run.py) for a time budget.

    python bench/gpu_train.py pack                  # here: .gpu/ with the start weights, the faces and the wheels
    KERAS_BACKEND=jax python bench/gpu_train.py run --minutes 8 --out $OUT      # there (docs/speed.md: the call)
    python bench/gpu_train.py join FOLDER           # here: the .h5 files back from their parts

`run` trains through `train.py` itself (--init-from the packed pair, --diffaugment --lr 2.5e-5 --ema 0.999
--precision bf16) and stops it as Ctrl-C does when the budget is spent: it saves, and the average (G's EMA)
starts from G, as a run new to --ema does. It writes to --out the three .h5 files in parts of at most 15 MiB (a
device call brings back files of 16 MiB at most) and gpu_train.csv: images/s, peak GPU memory, batch, learning
rate. What travels to the machine is at most 64 MiB, hence .gpu/: G and D (37 MiB), a sample of the training
faces as 64x64 JPEGs (quality 95) and the wheels that the machine lacks (keras, namex, optree).
"""
import argparse
import csv
import glob
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from long_run import PAIRS  # noqa: E402  (the options of the long run, held once)

PACKED = os.path.join(ROOT, ".gpu")
WHEELS = ("keras==3.15.1", "namex", "optree")  # what KINDS.md's package list of the machine lacks for Keras
PART = 15 * 2**20
CSV_FILE = "gpu_train.csv"


def pack(args):
    """.gpu/start (the shipped G and D), .gpu/faces (--faces faces of --data, 64x64 JPEGs named as before, so
    that ages stay readable) and .gpu/wheels (for Python 3.12 on x86-64 Linux, the machine's)."""
    import numpy as np
    from PIL import Image

    from facegan.io import data, model_folder

    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(os.path.join(args.out, "start"))
    shipped = model_folder.SavedModels(os.path.join(ROOT, PAIRS["dcgan"]["shipped"]))
    start = model_folder.SavedModels(os.path.join(args.out, "start"))
    for name in (model_folder.GENERATOR, model_folder.DISCRIMINATOR):
        shutil.copyfile(shipped.path(name), start.path(name))
    paths = data.find_images(args.data, args.exclude)
    chosen = sorted(paths[index] for index in np.random.default_rng(0).permutation(len(paths))[:args.faces])
    os.makedirs(os.path.join(args.out, "faces"))
    for path in chosen:  # the crop train.py makes, at the size it trains at
        Image.fromarray(data.read_face(path, 64)).save(os.path.join(args.out, "faces", os.path.basename(path)),
                                                       "JPEG", quality=95)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
                    "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                    "-d", os.path.join(args.out, "wheels"), *WHEELS], check=True)
    total = sum(os.path.getsize(path) for path in glob.glob(os.path.join(args.out, "**", "*"), recursive=True)
                if os.path.isfile(path))
    print(f"{args.out}: {len(chosen)} faces, {total / 2**20:.1f} MiB in all")


def peak_gpu_memory_gib():
    """The backend's peak GPU memory of this process, or None on a CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() if jax.devices()[0].platform == "gpu" else None
        return stats["peak_bytes_in_use"] / 2**30 if stats else None
    import tensorflow as tf

    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30 if tf.config.list_logical_devices(
        "GPU") else None


def device_name():
    """What the backend runs on."""
    import keras

    if keras.backend.backend() == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    if keras.backend.backend() == "jax":
        import jax

        return jax.devices()[0].device_kind
    return keras.backend.backend()


def run(args):
    """train.py on the packed faces from the packed pair until --minutes are spent, then the files into --out."""
    from facegan.cli import main
    from facegan.gan import training
    from facegan.io import checkpoints, model_folder

    run_dir = os.path.join(args.work, "run")
    flags = [*PAIRS["dcgan"]["flags"], "--batch-size", str(args.batch_size)]
    flags += ["--lr", str(args.lr)] if args.lr else []
    arguments = ["train", "--data", args.data, "--init-from", args.start, "--out", run_dir, "--epochs", "100000",
                 *flags]
    print("python train.py", " ".join(arguments[1:]), flush=True)
    started = time.time()
    timer = threading.Timer(args.minutes * 60, os.kill, (os.getpid(), signal.SIGINT))  # as Ctrl-C: save, stop
    timer.start()
    code = main(arguments)
    timer.cancel()
    if code not in (0, 130):
        sys.exit(code)
    history = checkpoints.read_rows(run_dir, training.HISTORY_FILE)
    steady = [row["images_per_second"] for row in history[len(history) // 2:]]  # after compiling and warm-up
    learning_rate = model_folder.read_config(run_dir)["learning_rate"]
    peak = peak_gpu_memory_gib()
    row = {"backend": os.environ.get("KERAS_BACKEND", "tensorflow"), "device": device_name(),
           "batch_size": args.batch_size, "learning_rate": learning_rate, "precision": "bf16",
           "minutes": round((time.time() - started) / 60, 2), "steps": len(history),
           "images": len(history) * args.batch_size,
           "images_per_second": round(statistics.median(steady), 1) if steady else "",
           "peak_gpu_memory_gib": "" if peak is None else round(peak, 2)}
    os.makedirs(args.out, exist_ok=True)
    saved, out = model_folder.checkpoint_models(run_dir), model_folder.SavedModels(args.out)
    for name in (model_folder.GENERATOR, model_folder.AVERAGE_GENERATOR, model_folder.DISCRIMINATOR):
        split(saved.path(name), out.path(name))
    with open(os.path.join(args.out, CSV_FILE), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    print(", ".join(f"{key} {value}" for key, value in row.items()))
    print(f"-> {args.out}: {', '.join(sorted(os.listdir(args.out)))}")


def split(path, out):
    """`path` as OUT.0, OUT.1, ... of at most PART bytes each."""
    with open(path, "rb") as source:
        for index, chunk in enumerate(iter(lambda: source.read(PART), b"")):
            with open(f"{out}.{index}", "wb") as part:
                part.write(chunk)


def join(args):
    """NAME.h5 from NAME.h5.0, NAME.h5.1, ... in FOLDER, each checked by loading it."""
    from facegan.io import weights

    names = sorted({os.path.basename(path).rsplit(".", 1)[0] for path in glob.glob(os.path.join(args.folder,
                                                                                            "*.h5.[0-9]*"))})
    for name in names:
        parts = sorted(glob.glob(os.path.join(args.folder, f"{name}.[0-9]*")), key=lambda p: int(p.rsplit(".", 1)[1]))
        with open(os.path.join(args.folder, name), "wb") as whole:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, whole)
        model = weights.load_model_h5(os.path.join(args.folder, name))
        print(f"{os.path.join(args.folder, name)}: {weights.model_profile(model)['kind']}, from {len(parts)} parts")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="here: .gpu/ for the device call")
    packing.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "utkface"))
    packing.add_argument("--exclude", help="faces held out (as train.py --exclude)")
    packing.add_argument("--faces", type=int, default=6000, help="faces to pack (6000: about 16 MiB)")
    packing.add_argument("--out", default=PACKED)
    running = commands.add_parser("run", help="there: train for --minutes, then the .h5 parts and the CSV")
    running.add_argument("--minutes", type=float, required=True, help="the training budget, start-up included")
    running.add_argument("--out", default=os.environ.get("OUT", "gpu-out"))
    running.add_argument("--data", default=os.path.join(PACKED, "faces"))
    running.add_argument("--start", default=os.path.join(PACKED, "start"))
    running.add_argument("--batch-size", type=int, default=64, help="64: the long run's")
    running.add_argument("--lr", type=float, help="Adam's learning rate (default: the long run's, 2.5e-5, for 64)")
    running.add_argument("--work", default="/tmp/facegan-gpu-train", help="the run folder's parent")
    joining = commands.add_parser("join", help="here: NAME.h5 from its parts")
    joining.add_argument("folder")
    args = parser.parse_args()
    {"pack": pack, "run": run, "join": join}[args.command](args)


if __name__ == "__main__":
    main()
