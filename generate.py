"""Draw faces from a trained generator: `python generate.py --n 64` (see `--help`)."""
import sys

from facegan.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
