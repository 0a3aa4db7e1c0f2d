"""The command line answers at once: --help, each command's --help and flag errors are printed before TensorFlow
or Keras is imported (what takes seconds); a command that runs imports them then."""
import json
import os
import subprocess
import sys

from facegan.commands import COMMANDS

from tests.conftest import REPO

RUN = """
import json, sys
from facegan.commands import main
codes = []
for arguments in json.loads(sys.argv[1]):
    try:
        codes.append(main(arguments))
    except SystemExit as stop:
        codes.append(stop.code)
print(json.dumps({"codes": codes, "heavy": sorted(name for name in ("tensorflow", "keras", "h5py")
                                                  if name in sys.modules)}))
"""


def run_in_a_fresh_python(*argument_lists):
    """Each of `argument_lists` through `facegan`, in one fresh Python: the exit codes, and which of TensorFlow,
    Keras and h5py were imported by the end."""
    result = subprocess.run([sys.executable, "-c", RUN, json.dumps(argument_lists)], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_and_flag_errors_come_before_tensorflow():
    helps = [["--help"]] + [[name, "--help"] for name in COMMANDS]
    result = run_in_a_fresh_python(*helps, ["age", "--nonsense"], ["train", "--epochs", "many"])
    assert result == {"codes": [0] * len(helps) + [2, 2], "heavy": []}


def test_a_command_that_runs_imports_tensorflow(tmp_path):
    result = run_in_a_fresh_python(["generate", "--n", "0", "--out", str(tmp_path / "faces.png")])
    assert result["codes"] == [2] and "tensorflow" in result["heavy"]
