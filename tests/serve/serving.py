"""`facegan serve` as a user starts it, for the page's tests: a subprocess on a free port of this machine."""
import contextlib
import os
import queue
import subprocess
import sys
import threading

import pytest

from tests.conftest import REPO


@contextlib.contextmanager
def facegan_serve(log_path, *flags, environment=None):
    """Yields (address, process) of `facegan serve --port 0 FLAGS`, its log in `log_path`; stops it after.
    `environment`: the server's, else this process's."""
    environment = {**(environment or os.environ), "TF_CPP_MIN_LOG_LEVEL": "3",
                   "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "facegan.cli", "serve", "--port", "0", *flags],
                                   cwd=REPO, env=environment, text=True, stdout=subprocess.PIPE, stderr=log)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        address = None
        while address is None:
            line = lines.get(timeout=120)
            if "http://" in line:
                address = "http://" + line.split("http://", 1)[1].split()[0]
        yield address, process
        assert process.poll() is None, "the server stopped during the tests"
    except queue.Empty:
        pytest.fail(f"facegan serve did not start in 2 minutes: {log_path.read_text()[-2000:]}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
