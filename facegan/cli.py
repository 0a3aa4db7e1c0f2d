"""The `facegan` console script, and what train.py and generate.py call with their command filled in."""
import sys

from facegan.commands import main

if __name__ == "__main__":
    sys.exit(main())
