"""FID and KID of each epoch's generator, and the plot of the model card: where does training stop improving?

    python bench/fid_by_epoch.py EPOCHS_DIR [EPOCHS_DIR...] [--real data/] [--n 1000] [--out docs/fid_by_epoch.png]

EPOCHS_DIR holds one folder per epoch, `epoch_N/generator.h5` (copies of a run's checkpoint taken as each epoch
ends). Scores go to EPOCHS_DIR/scores.csv and are reused, so a rerun only scores the new epochs (and an epoch
whose copy is gone keeps its score). Several runs share one plot; `--labels` names them, and `--after N` says
that a run started from the end of another run's epoch N (`train.py --init-from`), so its epoch 1 is drawn at
N + 1. Needs the eval extra.
"""
import argparse
import csv
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)

from facegan.io import checkpoints, model_folder  # noqa: E402
from facegan.metrics import fid  # noqa: E402


def score_epochs(epochs_dir, real, n):
    """{epoch: scores row} for every epoch of `epochs_dir`, scoring those not in its scores.csv yet."""
    scores_path = os.path.join(epochs_dir, "scores.csv")
    scores = {}
    if os.path.exists(scores_path):
        with open(scores_path, newline="") as f:
            scores = {int(row["epoch"]): row for row in csv.DictReader(f) if int(row["n"]) == n}
    epochs = sorted(int(match.group(1)) for name in os.listdir(epochs_dir)
                    if (match := re.fullmatch(r"epoch_(\d+)", name)))
    for epoch in sorted(set(epochs) | set(scores)):
        if epoch not in scores:
            saved = model_folder.SavedModels(os.path.join(epochs_dir, f"epoch_{epoch}"))
            generator = checkpoints.load_model_h5(saved.raw_generator_path)
            result = fid.score(generator, real, n)
            scores[epoch] = {"epoch": epoch, "n": n, "fid": result["fid"], "kid": result["kid"],
                             "kid_std": result["kid_std"]}
            with open(scores_path, "w", newline="") as f:
                writer = csv.DictWriter(f, ["epoch", "n", "fid", "kid", "kid_std"])
                writer.writeheader()
                writer.writerows(scores[key] for key in sorted(scores))
        row = scores[epoch]
        spread = float(row["kid_std"] or "nan")  # empty where only the scores were kept
        print(f"{epochs_dir} epoch {epoch:3d}: FID {float(row['fid']):7.2f}  KID {float(row['kid']):.4f} "
              f"+- {spread:.4f}  (n={n})")
    return {epoch: scores[epoch] for epoch in sorted(scores)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("epochs_dirs", nargs="+", metavar="EPOCHS_DIR")
    parser.add_argument("--labels", nargs="+", help="one name per EPOCHS_DIR for the plot (default: the folders)")
    parser.add_argument("--after", type=int, nargs="+", help="one per EPOCHS_DIR: the epochs it started after")
    parser.add_argument("--real", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--floor", type=float, help="the real-vs-real FID of bench/fid_floor.py, drawn as a line")
    parser.add_argument("--out", default="docs/fid_by_epoch.png")
    args = parser.parse_args()
    labels = args.labels or args.epochs_dirs
    after = args.after or [0] * len(args.epochs_dirs)
    if not len(labels) == len(after) == len(args.epochs_dirs):
        parser.error("give one --labels and one --after per EPOCHS_DIR")
    curves = [(label, start, score_epochs(folder, args.real, args.n))
              for folder, label, start in zip(args.epochs_dirs, labels, after)]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 3.5))
    for label, start, scores in curves:
        axis.plot([start + epoch for epoch in scores], [float(row["fid"]) for row in scores.values()], "o-",
                  label=label)
    if args.floor:
        axis.axhline(args.floor, color="grey", linestyle="--", label=f"real vs real ({args.floor:g})")
    axis.set_xlabel("epoch")
    axis.set_ylabel(f"FID, n={args.n}")
    axis.set_ylim(bottom=0)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")  # beside the curves, not on them
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f"plot -> {args.out}")


if __name__ == "__main__":
    main()
