"""`facegan serve` under load, on loopback only: many clients at once (each its own 127.0.0.N address), good photos,
bad files, a flood of large uploads and clients that hang up mid-upload. Every upload gets an answer (aged, a
clear error, or busy), no accepted photo is lost, the server's memory stays under its bound (docs/serve.md), and
afterwards it still serves the page and ages a photo. Bounded: 60-odd requests, small limits, few steps."""
import concurrent.futures
import io
import os
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from facegan.serve.client import age, connection, multipart

from tests.conftest import REPO
from tests.serve.serving import facegan_serve

for module in ("fastapi", "uvicorn", "multipart", "mtcnn"):
    pytest.importorskip(module, reason="the serve extra is not installed")

FACES = sorted(os.path.join(REPO, "data", name) for name in os.listdir(os.path.join(REPO, "data"))
               if name.endswith(".jpg"))[:8]
QUEUE_MB = 64
# what the server may hold beyond --queue-mb: a batch's working memory in the models, one photo being decoded, the
# upload bodies being parsed (docs/serve.md, "Limits and bad input")
OVERHEAD_MB = 400
LIMITS = ["--queue", "32", "--queue-per-client", "3", "--queue-mb", str(QUEUE_MB), "--batch-size", "8"]
HANGS_UP = 20  # the client address that hangs up mid-upload, then comes back


def memory_mb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(address, pid) of a `facegan serve` with small limits; stopped after the test."""
    log_path = tmp_path_factory.mktemp("soak") / "server.log"
    with facegan_serve(log_path, "--steps", "5", *LIMITS) as (address, process):
        yield address, process.pid


def encoded(image, kind, **options):
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def bad_files():
    """(name, bytes, what the answer must say)."""
    face = open(FACES[0], "rb").read()
    gradient = np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (300, 1))
    return [("empty.jpg", b"", "the file is empty"),
            ("notes.txt", b"not a photo\n", "not an image"),
            ("cut.jpg", face[:len(face) // 2], "truncated"),
            ("bomb.png", encoded(Image.new("L", (20000, 20000)), "PNG"), "20000x20000 is over the 40-megapixel limit"),
            ("wall.png", encoded(Image.fromarray(gradient), "PNG"), "no face found"),
            ("huge.jpg", bytes(90 * 2**20), "the file is 90 MB; the limit is 10 MB")]  # refused unparsed


def large_photo():
    """About 7 MB of JPEG, 3000x2500 (22 MB decoded), with no face in it."""
    noise = np.random.default_rng(0).integers(0, 256, (2500, 3000, 3), dtype=np.uint8)
    return encoded(Image.fromarray(noise), "JPEG", quality=92)


def hang_up(address, data):
    """Sends the headers and a third of an upload's body, then closes the connection."""
    body, kind = multipart("gone.jpg", data)
    link = connection(address, HANGS_UP)
    link.putrequest("POST", "/api/age")
    link.putheader("Content-Type", kind)
    link.putheader("Content-Length", str(len(body)))
    link.endheaders()
    link.send(body[:len(body) // 3])
    time.sleep(0.2)
    link.sock.shutdown(socket.SHUT_RDWR)
    link.close()
    return ("hung up",)


@pytest.mark.slow
def test_under_a_flood_every_upload_is_answered_none_is_lost_and_memory_stays_bounded(server):
    address, pid = server
    start_mb = memory_mb(pid, "VmRSS")
    large, bad = large_photo(), bad_files()
    tasks = [(age, address, os.path.basename(path), open(path, "rb").read(), 2 + index)
             for index, path in enumerate(FACES)]
    tasks += [(age, address, name, data, 10 + index) for index, (name, data, _said) in enumerate(bad)]
    tasks += [(age, address, "large.jpg", large, 30 + index % 4) for index in range(40)]
    tasks += [(hang_up, address, large)] * 5
    peak = [0.0]
    watching = threading.Event()

    def watch():
        while not watching.wait(0.05):
            peak[0] = max(peak[0], memory_mb(pid, "VmRSS"))

    threading.Thread(target=watch, daemon=True).start()
    try:
        with concurrent.futures.ThreadPoolExecutor(len(tasks)) as pool:
            outcomes = list(pool.map(lambda task: task[0](*task[1:]), tasks))
    finally:
        watching.set()
    good, answered_bad = outcomes[:len(FACES)], outcomes[len(FACES):len(FACES) + len(bad)]
    flood = outcomes[len(FACES) + len(bad):-5]
    assert [outcome[0] for outcome in good] == ["done"] * len(FACES), good
    assert all(len(outcome[1]["aged"]) == 5 for outcome in good)
    for (name, _data, said), outcome in zip(bad, answered_bad):
        assert outcome[0] in ("error", "refused") and said in str(outcome[-1]), (name, outcome)
    busy = [outcome for outcome in flood if outcome[0] == "busy"]
    assert busy and all(outcome[1].startswith("busy: ") and " ahead" in outcome[1] and outcome[2] >= 1
                        for outcome in busy)
    accepted = [outcome for outcome in flood if outcome[0] != "busy"]
    assert accepted and all(outcome == ("error", accepted[0][1]) for outcome in accepted), accepted  # none lost
    assert "no face found" in accepted[0][1]
    peak_mb = max(peak[0], memory_mb(pid, "VmHWM"))
    assert peak_mb - start_mb < QUEUE_MB + OVERHEAD_MB, (start_mb, peak_mb)

    # afterwards: the page, the places the hung-up client held given back, and a photo aged
    link = connection(address)
    link.request("GET", "/")
    assert b"facegan" in link.getresponse().read()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        again = list(pool.map(lambda _: age(address, "notes.txt", b"text", HANGS_UP), range(3)))
    assert [outcome[:2] for outcome in again] == [("refused", 400)] * 3, again
    assert age(address, os.path.basename(FACES[1]), open(FACES[1], "rb").read(), 99)[0] == "done"
