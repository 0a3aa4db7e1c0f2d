"""The work behind the page, with no web code: the models, loaded once, and what each request asks of them.

Aging goes through the same library calls as `facegan age` (photos.read_photos with MTCNN, algorithm.reproduce,
algorithm.at_age), so a photo aged here to 60 is the face `facegan age --to 60` writes. The photo is projected
once; every age is then a few passes of the generator from the same z, so the row of five ages costs little more
than one does.
"""
import dataclasses
import io
import os
import re
import tempfile

import numpy as np
from PIL import Image

from facegan import FaceganError
from facegan.gan.prior import noise_dim, sample_noise
from facegan.io.pixels import to_unit

AGES = (10, 30, 45, 60, 75)  # the row of the page
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
FACES_PER_DRAW = 8
MAX_FRAMES = 32


@dataclasses.dataclass
class AgedPhoto:
    """One photo, projected: enough to show its face at any age without projecting again."""
    name: str                   # the uploaded file's name
    picture: np.ndarray         # the photo decoded whole, (h, w, 3) uint8: the download is made on it
    placement: object           # where the face sits in it (facegan.aging.placement.Placement)
    face: np.ndarray            # the face crop, (size, size, 3) in [-1, 1]
    code: np.ndarray            # z
    source_age: float
    notes: list                 # what the page should say beside the result (several faces, estimated age)


def check_upload(data, limit_bytes=MAX_BYTES, limit_pixels=MAX_PIXELS):
    """Raises FaceganError (one sentence for the page) unless `data` is an image within the limits."""
    if not data:
        raise FaceganError("the file is empty")
    if len(data) > limit_bytes:
        raise FaceganError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {limit_bytes / 2**20:g} MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # Pillow raises many kinds for a file that is not an image
        raise FaceganError("that file is not an image (use a JPEG, PNG, WebP or BMP photo)") from None
    if width * height > limit_pixels:
        raise FaceganError(f"the image is {width}x{height} ({width * height / 1e6:.0f} megapixels); the limit is "
                           f"{limit_pixels / 1e6:g} megapixels")


class _CountingDetector:
    """MTCNN, remembering how many faces it found last, so the page can say it aged the largest of several."""

    def __init__(self, detector):
        self.detector, self.found = detector, 0

    def detect_faces(self, image):
        faces = self.detector.detect_faces(image)
        self.found = len(faces)
        return faces


def _safe_name(name):
    """The upload's base name, harmless on disk; UTKFace-style names (AGE_...) keep their age, as with
    `facegan age`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(name or ""))[-100:].lstrip(".")
    return name or "photo"


class Engine:
    """Every model the page uses, loaded once. Not thread-safe: the app runs all calls on one worker thread."""

    def __init__(self, checkpoint=None, faces_checkpoint=None, projection=None, log=print):
        from facegan.aging.models import AgingModels
        from facegan.aging.photos import face_detector
        from facegan.io import model_folder

        aging_folder = model_folder.find(checkpoint, conditional=True)
        self.models = AgingModels.load(aging_folder)
        self.size = self.models.generator.output_shape[1]
        faces_folder = model_folder.find(faces_checkpoint, conditional=False)
        self.faces_generator = faces_folder.load_generator(conditional=False)
        self.projection = {"seed": 0, **(projection or {})}
        self.detector = _CountingDetector(face_detector())
        self.detector.detect_faces(np.zeros((64, 64, 3), np.uint8))  # builds MTCNN's graphs now, not on a visit
        log(f"weights: {model_folder.describe(aging_folder.generator)} for aging, "
            f"{model_folder.describe(faces_folder.generator)} for new faces")

    def age_photo(self, name, data, from_age=None, progress=None):
        """Finds the largest face of an uploaded photo and projects it: an AgedPhoto, or FaceganError saying
        what is wrong with the photo."""
        from facegan.aging import algorithm
        from facegan.aging.photos import read_photos

        check_upload(data)
        if from_age is not None and not 0 <= from_age <= 120:
            raise FaceganError(f"the age in the photo must be between 0 and 120, not {from_age:g}")
        name = _safe_name(name)
        problems = []
        with tempfile.TemporaryDirectory(prefix="facegan-serve-") as folder:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(data)
            self.detector.found = 0
            photos = read_photos([path], self.size, from_age=from_age, log=problems.append,
                                 detector=self.detector)
        if not photos.files:
            problem = problems[0].split(": skipped, ", 1)[-1] if problems else "unusable"
            if problem.startswith("no face"):
                raise FaceganError("no face found in this photo: try one where the face is larger, lit and "
                                   "turned to the camera")
            if problem.startswith("no source age"):
                raise FaceganError("the age in the photo could not be estimated (the aging extra is not "
                                   "installed): type it in the box 'age in the photo'")
            raise FaceganError(f"this photo cannot be used: {problem}")
        notes = []
        if self.detector.found > 1:
            notes.append(f"{self.detector.found} faces found: aged the largest")
        source_age = float(photos.ages[0])
        if from_age is None and not re.match(r"\d+_", name):
            notes.append(f"age in the photo estimated at {source_age:.0f} (type it in if that is wrong)")
        originals = to_unit(photos.faces)
        projection = algorithm.reproduce(self.models, originals, photos.ages,
                                         progress=progress, **self.projection)
        return AgedPhoto(name, photos.pictures[0], photos.placements[0], originals[0], projection.codes[0],
                         source_age, notes)

    def aged_at(self, photo, target_age):
        """The face of a projected photo at `target_age`, as `facegan age --to target_age` shows it (the photo
        plus what aging changed, at the calibrated default strength), (size, size, 3) in [-1, 1]."""
        from facegan.aging import algorithm

        if not 0 <= target_age <= 120:
            raise FaceganError(f"the target age must be between 0 and 120, not {target_age:g}")
        return algorithm.at_age(self.models, photo.face[None], photo.code[None], np.array([photo.source_age]),
                                target_age)[0]

    def result(self, photo, target_age):
        """What the download button gives: the photo at its own resolution, its face at `target_age` (as
        `facegan age --to target_age` writes NAME.png)."""
        from facegan.aging.results import aged_photo

        return Image.fromarray(aged_photo(photo.picture, photo.placement, photo.face, self.aged_at(photo, target_age)))

    def _codes(self, seed, indices):
        if not 0 <= seed < 2**32:
            raise FaceganError(f"the seed must be a whole number from 0 to {2**32 - 1}, not {seed}")
        # the same draws as `facegan generate --seed SEED`: face i is row i of its noise
        noise = sample_noise(np.random.default_rng(seed), FACES_PER_DRAW, noise_dim(self.faces_generator))
        return noise[list(indices)]

    def draw_faces(self, seed):
        """FACES_PER_DRAW new faces from the DCGAN, (n, size, size, 3) in [-1, 1]."""
        from facegan.gan.prior import draw

        return draw(self.faces_generator, self._codes(seed, range(FACES_PER_DRAW)))

    def morph(self, seed, first, last, frames):
        """`frames` faces from face `first` of a draw to face `last`, through z ("cube" interpolation, as
        `facegan interpolate --method cube`)."""
        from facegan.gan.prior import draw
        from facegan.latent.facemath import interpolate

        for index in (first, last):
            if not 0 <= index < FACES_PER_DRAW:
                raise FaceganError(f"a face of the draw is numbered 0 to {FACES_PER_DRAW - 1}, not {index}")
        if not 2 <= frames <= MAX_FRAMES:
            raise FaceganError(f"a morph has 2 to {MAX_FRAMES} frames, not {frames}")
        start, end = self._codes(seed, (first, last))
        return draw(self.faces_generator, interpolate(start, end, frames, "cube").astype(np.float32))
