"""`facegan COMMAND ...`: one module per command, each with its HELP, `add_arguments(parser)` and `run(args)`.
A new command is a new module and one line in COMMANDS."""
import argparse
import importlib
import sys

from facegan import FaceganError, import_tensorflow_quietly
from facegan.backend import keras_backend

COMMANDS = {  # command name -> module of facegan.commands
    "train": "train",
    "generate": "generate",
    "project": "project",
    "math": "facemath",
    "interpolate": "interpolate",
    "complete": "complete",
    "evaluate": "evaluate",
    "train-encoder": "train_encoder",
    "fit-gender": "fit_gender",
    "fit-strengths": "fit_strengths",
    "age": "age",
    "evaluate-aging": "evaluate_aging",
    "serve": "serve",
    "export": "export",
}


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, not argparse's usage block: the brief's rule for nonsense arguments.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv=None):
    """Parses before Keras loads (every module a parser imports is Keras-free: the defaults it shows live in
    facegan.gan.config, facegan.latent.defaults and facegan.aging.defaults), so --help and flag errors answer at
    once; a command that runs on TensorFlow then gets it with its start-up lines held back (jax and torch never
    bring TensorFlow in: facegan.backend)."""
    parser = Parser(prog="facegan", description="DCGAN faces in Keras 3.")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"facegan.commands.{module_name}")
        module.add_arguments(subparsers.add_parser(name, help=module.HELP, description=module.HELP))
    args = parser.parse_args(argv)
    if keras_backend() == "tensorflow":
        import_tensorflow_quietly()
    try:
        importlib.import_module(f"facegan.commands.{COMMANDS[args.command]}").run(args)
    except FaceganError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
