"""One command for a machine with NVIDIA GPUs: a short `train.py --distribute mirrored` run on all of them, then
images/s, peak GPU memory and one FID.

    pip install -e ".[gpu,eval]"
    python bench/gpu_check.py [--data data/] [--epochs 2] [--batch-size-per-gpu 64]

A few minutes on one modern GPU with the bundled 2000 faces at 64x64. The FID of so short a run is high (it
checks that training and scoring work, not the recipe's quality). Nothing here has been run on a GPU yet; its
figures go into docs/distributed.md once they have.
"""
import argparse
import os
import statistics
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from facegan.gan.config import DEFAULTS

from facegan.gan import distribute, training
from facegan.io import checkpoints  # noqa: E402
from facegan.metrics import fid  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULTS["data"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size-per-gpu", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--eval-n", type=int, default=1000, help="faces generated and real faces for the FID")
    args = parser.parse_args()
    fid.require_extra()
    replicas = distribute.replicas_for("mirrored")  # before TensorFlow runs anything
    import tensorflow as tf

    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    print(f"TensorFlow {tf.__version__}, built with CUDA: {tf.test.is_built_with_cuda()}; "
          f"GPUs: {', '.join(gpus) or 'none (this run is on the CPU)'}; {replicas.count} replica(s)")
    run = tempfile.mkdtemp(prefix="facegan-gpu-check-")
    config = {**DEFAULTS, "data": args.data, "epochs": args.epochs, "image_size": args.image_size,
              "batch_size": args.batch_size_per_gpu * replicas.count, "distribute": "mirrored",
              "eval_every": args.epochs, "eval_n": args.eval_n}
    training.train(config, run)

    history = checkpoints.read_rows(run, training.HISTORY_FILE)
    steady = [row["images_per_second"] for row in history[len(history) // 2:]]  # after tracing and warm-up
    rate = statistics.median(steady)
    print(f"\n{replicas.count} replicas, global batch {config['batch_size']}, image {args.image_size}: "
          f"{rate:.0f} images/s in total, {rate / replicas.count:.0f} per replica (median of the last "
          f"{len(steady)} steps)")
    for gpu in gpus:
        peak = tf.config.experimental.get_memory_info(gpu.split("device:")[-1])["peak"] / 2**30
        print(f"peak memory {gpu}: {peak:.2f} GiB")
    score = checkpoints.read_rows(run, training.QUALITY_FILE)[-1]["fid"]
    print(f"FID after {args.epochs} epochs ({args.eval_n} samples vs {args.eval_n} faces of {args.data}): "
          f"{score:.1f}")
    print(f"run folder: {run}")


if __name__ == "__main__":
    main()
