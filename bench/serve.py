"""Timing of `facegan serve` against `facegan age`, the issue's bar for the page:

    python bench/serve.py [--rounds 2] [--steps N] [PHOTO ...]

Starts `facegan serve` (its default settings, or --steps) and prints its start-up time (launch to the address on
the terminal, models loaded); then, per round and photo, the seconds from choosing the file in Chromium (Debian's,
through Playwright) to the row of five ages shown, and the wall time of `facegan age PHOTO --to 60` with the same
settings, as a user runs it (start-up included). Needs the serve extra and playwright.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = os.path.join(REPO, "data", "25_1_0_20170103180911281.jpg.chip.jpg")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*", default=[PHOTO])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, help="projection steps (default: those of serve and age)")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    command = [sys.executable, "-m", "facegan.cli"]
    environment = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "3"}
    steps = ["--steps", str(args.steps)] if args.steps else []
    started = time.monotonic()
    server = subprocess.Popen(command + ["serve", "--port", "0", *steps], cwd=REPO,
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = ""
        while "http://" not in line:
            line = server.stdout.readline()
            if not line:
                sys.exit("facegan serve stopped before it was ready")
        print(f"start-up: {time.monotonic() - started:.1f} s ({line.strip()})")
        address = "http://" + line.split("http://", 1)[1].split()[0]
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as out:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(address)
            for round_number in range(1, args.rounds + 1):
                for photo in args.photos:
                    began = time.monotonic()
                    page.set_input_files("#photo", photo)
                    expect(page.locator("#aged img")).to_have_count(5, timeout=600_000)
                    in_page = time.monotonic() - began
                    page.evaluate("() => document.getElementById('aged').replaceChildren()")
                    began = time.monotonic()
                    subprocess.run(command + ["age", photo, "--to", "60", *steps, "--out", out],
                                   cwd=REPO, env=environment, check=True, capture_output=True)
                    print(f"round {round_number}, {os.path.basename(photo)}: in the page {in_page:.1f} s (five "
                          f"ages), `facegan age --to 60` {time.monotonic() - began:.1f} s", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
