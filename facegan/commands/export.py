"""`facegan export --keras2 RUN_OR_H5 OUT.h5`: a copy of a generator that tf-keras (Keras 2) loads.

A plain generator saved by facegan already loads in both Keras; the conditional one (a nested model) and the
files saved before both could are what this is for (docs/weights.md).
"""
import os

from facegan import FaceganError

HELP = "write a copy of a generator that tf-keras (Keras 2) loads"


def add_arguments(parser):
    parser.add_argument("checkpoint", metavar="RUN_OR_H5", help="a run folder or a generator .h5")
    parser.add_argument("out", metavar="OUT.h5", help="file: the copy to write")
    parser.add_argument("--keras2", action="store_true", required=True,
                        help="write the model config in Keras 2's form, for tf_keras.models.load_model")


def run(args):
    from facegan.io import model_folder, weights

    source = model_folder.find(args.checkpoint, newest_run_first=True).generator
    if os.path.abspath(source) == os.path.abspath(args.out):
        raise FaceganError(f"{args.out}: the copy must go to another file than {source}")
    model = weights.export_keras2(source, args.out)
    print(f"{model_folder.describe(source)} -> {os.path.normpath(args.out)} (tf-keras reads it; inputs: "
          f"{', '.join(tensor.name for tensor in model.inputs)})")
