"""Time to a result from `facegan serve` under load, the issue's bar for the page:

    python bench/serve.py [--steps N] [--bursts 1 12 60] [--clients 12] [--flood 300] [PHOTO ...]
    python bench/serve.py --stages 16

Starts `facegan serve` (its default settings, or --steps) and prints its start-up time; then, for each burst size N,
sends N uploads at once (from up to --clients loopback addresses, 127.0.0.2 and up, as that many visitors), each
of a bundled UTKFace face (200x200, the age in its name) unless photos are given, follows every job as the page
does, and prints the p50 and p95 seconds from the burst to each result, the last one, and how the uploads ended
(aged, busy, error). With --flood N, then N uploads of a 7.5 MB photo (a bundled face on a 4032x3024 phone-sized
picture of noise) from 4 clients, 8 at a time each, and a bundled face aged after it. Last, the server's peak
memory (VmHWM) over its memory after start-up.

With --stages N, no server: where a batch of N bundled faces spends the model thread's time, each step of
Engine as the line calls it, in seconds of wall clock and of CPU (all threads): finding the faces, the projection,
the row of five ages (and the same five ages drawn one at a time, as before algorithm.at_ages), the page's PNGs.
"""
import argparse
import concurrent.futures
import io
import os
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from facegan.serve.client import age  # noqa: E402


def memory_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def burst(address, photos, count, clients):
    """Outcomes and seconds from the start of the burst to each upload's end."""
    began = time.monotonic()

    def one(index):
        path = photos[index % len(photos)]
        with open(path, "rb") as f:
            outcome = age(address, os.path.basename(path), f.read(), client=2 + index % clients)
        return outcome[0], time.monotonic() - began

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def large_photo(face):
    """About 7.5 MB of JPEG: `face` enlarged on 4032x3024 of noise (37 MB decoded)."""
    from PIL import Image

    picture = np.random.default_rng(0).normal(128, 60, (3024, 4032, 3)).clip(0, 255).astype(np.uint8)
    picture = Image.fromarray(picture)
    picture.paste(Image.open(face).resize((1200, 1200)), (1400, 900))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=87)
    return buffer.getvalue()


def flood(address, face, count):
    data = large_photo(face)
    began = time.monotonic()

    def one(index):
        return age(address, os.path.basename(face), data, client=100 + index % 4)[0]

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(one, range(count)))
    ended = {state: outcomes.count(state) for state in sorted(set(outcomes))}
    print(f"flood: {count} uploads of a {len(data) / 2**20:.1f} MB photo from 4 clients in "
          f"{time.monotonic() - began:.0f} s; {ended}", flush=True)


def stages(photos, count):
    from facegan.aging import algorithm
    from facegan.serve.app import summary
    from facegan.serve.engine import AGES, Engine, read_upload

    engine = Engine(log=lambda _line: None)
    uploads = [read_upload(path, os.path.basename(path)) for path in photos[:count]]
    engine.age_photos(uploads[:2])  # builds the models' functions, as the server's first visitor does

    def timed(name, work):
        wall, cpu = time.monotonic(), time.process_time()
        result = work()
        print(f"{name}: {time.monotonic() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s", flush=True)
        return result

    timed(f"find {len(uploads)} faces", lambda: [engine._find_face(upload) for upload in uploads])
    aged = timed("find the faces and project them (Engine.age_photos)", lambda: engine.age_photos(uploads))
    faces = timed(f"the row of {len(AGES)} ages (Engine.faces_at)", lambda: engine.faces_at(aged, AGES))
    arguments = [np.stack([getattr(photo, name) for photo in aged]) for name in ("face", "code")]
    timed(f"the same {len(AGES)} ages one at a time (algorithm.at_age)",
          lambda: [algorithm.at_age(engine.models, *arguments, np.array([photo.source_age for photo in aged]), age)
                   for age in AGES])
    timed("the page's results (PNGs)", lambda: [summary(photo, {age: faces[age][row] for age in AGES})
                                                for row, photo in enumerate(aged)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*")
    parser.add_argument("--steps", type=int, help="projection steps (default: those of serve and age)")
    parser.add_argument("--bursts", type=int, nargs="+", default=[1, 12, 60])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--flood", type=int, default=0)
    parser.add_argument("--stages", type=int, metavar="N", help="time each step of a batch of N, in this process")
    args = parser.parse_args()
    data = os.path.join(REPO, "data")
    photos = args.photos or [os.path.join(data, name) for name in sorted(os.listdir(data))
                             if name.endswith(".jpg")][:60]
    if args.stages:
        return stages(photos, args.stages)
    environment = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.monotonic()
    steps = ["--steps", str(args.steps)] if args.steps else []
    server = subprocess.Popen([sys.executable, "-m", "facegan.cli", "serve", "--port", "0", *steps], cwd=REPO,
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = ""
        while "http://" not in line:
            line = server.stdout.readline()
            if not line:
                sys.exit("facegan serve stopped before it was ready")
        print(f"start-up: {time.monotonic() - started:.1f} s ({line.strip()})", flush=True)
        address = "http://" + line.split("http://", 1)[1].split()[0]
        baseline = memory_kb(server.pid, "VmRSS")
        for count in args.bursts:
            outcomes = burst(address, photos, count, min(count, args.clients))
            seconds = np.array([elapsed for _state, elapsed in outcomes])
            ended = {state: sum(other == state for other, _ in outcomes) for state, _ in outcomes}
            print(f"{count:3d} at once from {min(count, args.clients)} clients: p50 {np.percentile(seconds, 50):.1f} "
                  f"s, p95 {np.percentile(seconds, 95):.1f} s, last {seconds.max():.1f} s; {ended}", flush=True)
        if args.flood:
            flood(address, photos[0], args.flood)
            began = time.monotonic()
            state = age(address, os.path.basename(photos[1]), open(photos[1], "rb").read(), client=99)[0]
            print(f"after the flood, a bundled face: {state} in {time.monotonic() - began:.1f} s", flush=True)
        peak = memory_kb(server.pid, "VmHWM")
        print(f"server memory: {baseline / 1024:.0f} MB after start-up, peak {peak / 1024:.0f} MB (+"
              f"{(peak - baseline) / 1024:.0f} MB)", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
