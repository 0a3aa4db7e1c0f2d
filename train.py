"""Train the classic DCGAN on faces: `python train.py --data faces/` (see `--help`)."""
import sys

from facegan.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
