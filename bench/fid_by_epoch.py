"""FID and KID of each epoch's generator, and the plot of the model card: where does training stop improving?

    python bench/fid_by_epoch.py EPOCHS_DIR [--real data/] [--n 1000] [--out docs/fid_by_epoch.png]

EPOCHS_DIR holds one folder per epoch, `epoch_N/generator.h5` (copies of a run's checkpoint taken as each epoch
ends). Scores go to EPOCHS_DIR/scores.csv and are reused, so a rerun only scores the new epochs. Needs the
eval extra.
"""
import argparse
import csv
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)

from facegan import checkpoints, evaluate  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("epochs_dir")
    parser.add_argument("--real", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--floor", type=float, help="the real-vs-real FID of bench/fid_floor.py, drawn as a line")
    parser.add_argument("--out", default="docs/fid_by_epoch.png")
    args = parser.parse_args()

    scores_path = os.path.join(args.epochs_dir, "scores.csv")
    scores = {}
    if os.path.exists(scores_path):
        with open(scores_path, newline="") as f:
            scores = {int(row["epoch"]): row for row in csv.DictReader(f) if int(row["n"]) == args.n}
    epochs = sorted(int(match.group(1)) for name in os.listdir(args.epochs_dir)
                    if (match := re.fullmatch(r"epoch_(\d+)", name)))
    for epoch in epochs:
        if epoch not in scores:
            generator = checkpoints.load_model_h5(os.path.join(args.epochs_dir, f"epoch_{epoch}", "generator.h5"))
            result = evaluate.score(generator, args.real, args.n)
            scores[epoch] = {"epoch": epoch, "n": args.n, "fid": result["fid"], "kid": result["kid"],
                             "kid_std": result["kid_std"]}
            with open(scores_path, "w", newline="") as f:
                writer = csv.DictWriter(f, ["epoch", "n", "fid", "kid", "kid_std"])
                writer.writeheader()
                writer.writerows(scores[key] for key in sorted(scores))
        row = scores[epoch]
        print(f"epoch {epoch:3d}: FID {float(row['fid']):7.2f}  KID {float(row['kid']):.4f} "
              f"+- {float(row['kid_std']):.4f}  (n={args.n})")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(epochs, [float(scores[epoch]["fid"]) for epoch in epochs], "o-", label="generator")
    if args.floor:
        axis.axhline(args.floor, color="grey", linestyle="--", label=f"real vs real ({args.floor:g})")
    axis.set_xlabel("epoch")
    axis.set_ylabel(f"FID, n={args.n}")
    axis.set_ylim(bottom=0)
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f"plot -> {args.out}")


if __name__ == "__main__":
    main()
