"""`facegan serve` in a real browser: Debian's Chromium driven by Playwright, against the server started as a user
starts it (`facegan serve`, a subprocess, on a free port), with the shipped models, MTCNN and the bundled faces.
Projection runs `facegan age`'s default steps; one test checks that the page's download at 60 is what
`facegan age --to 60` writes. The first test also takes a screenshot of the page; with FACEGAN_SCREENSHOT=1 it
goes to docs/serve.png, the one in the docs, else to a temporary folder, so that running the tests leaves the
checkout as it was."""
import io
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from facegan.latent import defaults

from tests.conftest import REPO
from tests.serve.serving import facegan_serve

for module in ("fastapi", "uvicorn", "multipart", "mtcnn", "playwright"):
    pytest.importorskip(module, reason="the serve extra (and playwright, in the test extra) is not installed")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"),
              pytest.mark.slow]

AGING = os.path.join(REPO, "checkpoints", "aging-utkface-64")
STEPS = defaults.STEPS_FROM_ENCODER
AGED = 90_000  # ms: the longest a test waits for a photo to be aged
FACE = os.path.join(REPO, "data", "25_1_0_20170103180911281.jpg.chip.jpg")
OTHER_FACE = os.path.join(REPO, "data", "30_0_0_20170119180139147.jpg.chip.jpg")
DOCS_SCREENSHOT = os.path.join(REPO, "docs", "serve.png")
PER_CLIENT = 2  # --queue-per-client: the browser's third photo in line is answered busy


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The address of a `facegan serve` started for these tests; stopped after them."""
    log_path = tmp_path_factory.mktemp("serve") / "server.log"
    with facegan_serve(log_path, "--steps", str(STEPS), "--checkpoint", AGING, "--queue-per-client",
                       str(PER_CLIENT)) as (address, _process):
        yield address


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        # a fake camera (a test pattern) and no permission prompt, for the webcam snapshot
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1060, "height": 560}, accept_downloads=True)
    opened = context.new_page()
    opened.goto(server)
    yield opened
    context.close()


def natural_sizes(page, selector):
    return page.eval_on_selector_all(selector, "images => images.map(i => [i.naturalWidth, i.naturalHeight])")


def wait_for_row(page):
    expect(page.locator("#aged img")).to_have_count(5, timeout=AGED)
    expect(page.locator("#status")).to_be_hidden()


def test_a_face_is_aged_in_the_page_as_facegan_age_ages_it(page, tmp_path):
    page.set_input_files("#photo", FACE)
    expect(page.locator("#status")).to_be_visible()  # the progress indicator
    wait_for_row(page)
    assert page.eval_on_selector_all("#aged img", "images => images.map(i => i.dataset.age)") == \
        ["10", "30", "45", "60", "75"]
    assert natural_sizes(page, "#original, #aged img") == [[64, 64]] * 6
    expect(page.locator("#source-age")).to_have_text("25")  # from the UTKFace file name, as with `facegan age`
    expect(page.locator("#message")).to_be_hidden()
    page.locator("#target-age").fill("70")
    expect(page.locator("#target-age-shown")).to_have_text("70")
    page.wait_for_function(f"() => document.getElementById('preview').naturalWidth === {Image.open(FACE).width}")
    page.locator("#target-age").fill("60")
    page.wait_for_function("() => document.getElementById('preview').src.endsWith('age=60')")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename.endswith("-aged-60.png")
    downloaded = np.asarray(Image.open(download.value.path()).convert("RGB"))
    assert downloaded.shape == np.asarray(Image.open(FACE)).shape, "the photo at its own resolution"
    page.wait_for_function("() => document.getElementById('preview').complete")
    screenshot = DOCS_SCREENSHOT if os.environ.get("FACEGAN_SCREENSHOT") == "1" else str(tmp_path / "serve.png")
    page.screenshot(path=screenshot)
    assert Image.open(screenshot).size == (1060, 560)

    from facegan.cli import main  # the same photo through the command line, with the server's settings

    assert main(["age", FACE, "--to", "60", "--steps", str(STEPS), "--checkpoint", AGING,
                 "--out", str(tmp_path / "aged")]) == 0
    written = np.asarray(Image.open(tmp_path / "aged" / (os.path.basename(FACE) + ".png")))
    assert np.abs(downloaded.astype(int) - written).mean() < 0.5


def test_bad_uploads_are_messages_and_the_server_goes_on(page, tmp_path):
    checks = {"notes.txt": (b"not a photo at all\n", "not an image"),
              "big.jpg": (os.urandom(11 * 2**20), "the limit is 10 MB")}
    for name, (data, message) in checks.items():
        (tmp_path / name).write_bytes(data)
    buffer = io.BytesIO()
    Image.new("RGB", (7000, 6000), (40, 90, 200)).save(buffer, "PNG")  # 42 megapixels in a small file
    (tmp_path / "huge.png").write_bytes(buffer.getvalue())
    checks["huge.png"] = (None, "7000x6000 is over the 40-megapixel limit")
    gradient = np.linspace(0, 255, 300, dtype=np.uint8)
    Image.fromarray(np.stack([np.tile(gradient, (300, 1))] * 3, -1)).save(tmp_path / "wall.png")
    checks["wall.png"] = (None, "no face found")
    for name, (_data, message) in checks.items():
        page.set_input_files("#photo", str(tmp_path / name))
        expect(page.locator("#message")).to_contain_text(message, timeout=30_000)
        expect(page.locator("#status")).to_be_hidden()
        expect(page.locator("#results")).to_be_hidden()
    assert page.goto(page.url).ok  # still serving
    assert page.request.get(page.url + "api/faces?seed=1").ok


def test_two_uploads_at_once_queue_and_the_largest_of_two_faces_is_aged(browser, server, tmp_path):
    # a photo with two faces: the other face, and the test's face twice as large beside it
    two = Image.new("RGB", (600, 420), (235, 235, 235))
    two.paste(Image.open(OTHER_FACE).resize((150, 150)), (20, 140))
    two.paste(Image.open(FACE).resize((380, 380)), (200, 20))
    two.save(tmp_path / "two people.jpg")
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1060, "height": 560})
        pages.append(context.new_page())
        pages[-1].goto(server)
    first, second = pages
    first.set_input_files("#photo", OTHER_FACE)
    expect(first.locator("#status-text")).to_contain_text("aging", timeout=30_000)
    second.set_input_files("#photo", str(tmp_path / "two people.jpg"))
    expect(second.locator("#status-text")).to_contain_text("1 photo ahead")
    for each in pages:
        wait_for_row(each)
        expect(each.locator("#message")).to_be_hidden()
    expect(second.locator("#notes")).to_contain_text("2 faces found: aged the largest")
    expect(second.locator("#source-age")).not_to_have_text("")
    assert first.eval_on_selector("#original", "i => i.src") != second.eval_on_selector("#original", "i => i.src")
    for each in pages:
        each.context.close()


def test_a_busy_server_says_how_long_to_wait_and_the_page_keeps_the_photo(page):
    first = page.request.post(page.url + "api/age", multipart={"photo": {
        "name": os.path.basename(OTHER_FACE), "mimeType": "image/jpeg", "buffer": open(OTHER_FACE, "rb").read()}})
    page.set_input_files("#photo", OTHER_FACE)  # the second of this visitor's photos in line
    expect(page.locator("#status-text")).to_contain_text("ahead")
    page.set_input_files("#photo", FACE)  # the third: one too many
    expect(page.locator("#message")).to_contain_text("busy: 2 ahead", timeout=30_000)
    expect(page.locator("#message")).to_contain_text(re.compile(r"try again in about \d+ s"))
    expect(page.locator("#retry")).to_be_visible()
    state = page.url + f"api/jobs/{first.json()['job']}"
    for _ in range(AGED // 500):  # until the first of the two in line is aged
        if page.request.get(state).json()["state"] == "done":
            break
        page.wait_for_timeout(500)
    page.click("#retry")  # the same photo, not picked again
    wait_for_row(page)
    expect(page.locator("#source-age")).to_have_text("25")  # FACE's age, from its name
    expect(page.locator("#retry")).to_be_hidden()


def test_new_faces_and_a_morph(page):
    page.click("#tab-faces")
    expect(page.locator("#panel-age")).to_be_hidden()
    page.fill("#seed", "7")
    page.click("#draw")
    expect(page.locator("#faces img")).to_have_count(8)
    assert natural_sizes(page, "#faces img") == [[64, 64]] * 8
    page.locator("#faces img").nth(2).click()
    page.locator("#faces img").nth(5).click()
    expect(page.locator("#faces img.first")).to_have_attribute("alt", "face 2")
    expect(page.locator("#faces img.last")).to_have_attribute("alt", "face 5")
    page.click("#morph")
    expect(page.locator("#frames img")).to_have_count(9)
    page.locator("#morph-slider").fill("4")
    assert page.eval_on_selector("#morph-view", "i => i.src") == \
        page.eval_on_selector_all("#frames img", "images => images[4].src")
    ends = page.eval_on_selector_all("#frames img", "images => [images[0].src, images[8].src]")
    assert ends[0] != ends[1]


def test_a_webcam_snapshot_is_uploaded(page):
    page.context.grant_permissions(["camera"])
    page.click("#webcam")
    expect(page.locator("#camera")).to_be_visible()
    page.wait_for_function("() => document.getElementById('video').videoWidth > 0")
    page.click("#snap")
    expect(page.locator("#camera")).to_be_hidden()
    expect(page.locator("#message")).to_contain_text("no face found", timeout=30_000)  # a test pattern
