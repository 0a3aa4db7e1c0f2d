"""The work behind the page, with no web code: the models, loaded once, and what each request asks of them.

Aging goes through the same library calls as `facegan age` (data.read_picture, photos.find_face with the same face
finder, algorithm.reproduce, algorithm.at_ages: at_age for each age), so a photo aged here to 60 is the face
`facegan age --to 60` writes. Photos waiting together are aged together, as `facegan age` ages a folder: one
projection for the batch, then every age is a pass of the generator from the same z's, and the faces at the
photos' own ages one more for the whole row: five ages cost three times what one does, not five.
"""
import dataclasses
import io
import os
import re

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
NO_LABELS = os.devnull  # a folder with no labels.csv: an upload's age comes from its (UTKFace-style) name only


@dataclasses.dataclass
class Upload:
    """A photo waiting to be aged, held once: decoded upright RGB at its own resolution, the picture both the face
    is found in and the download is made on. Not the uploaded bytes, not a copy."""
    name: str                   # the uploaded file's name, made safe
    picture: np.ndarray         # (h, w, 3) uint8
    from_age: float = None      # typed in on the page, else None


@dataclasses.dataclass
class AgedPhoto:
    """One photo, projected: enough to show its face at any age without projecting again."""
    name: str
    picture: np.ndarray         # the Upload's picture (the same array): the download is made on it
    placement: object           # where the face sits in it (facegan.aging.placement.Placement)
    face: np.ndarray            # the face crop, (size, size, 3) in [-1, 1]
    code: np.ndarray            # z
    source_age: float
    notes: list                 # what the page should say beside the result (several faces, estimated age)
    faces: dict = dataclasses.field(default_factory=dict)  # its faces at the ages of the row, once drawn


def _header_size(path):
    """(width, height) from an image's header, read by Pillow's format plugins as Image.open reads it but without
    its decompression-bomb refusal, which names no size; None for a file no plugin reads."""
    with open(path, "rb") as f:
        data = f.read()
    Image.init()
    for format_id in Image.ID:
        factory, accept = Image.OPEN[format_id]
        try:
            accepted = accept is None or accept(data[:16])
            if accepted and not isinstance(accepted, str):
                with factory(io.BytesIO(data), "") as image:
                    return image.size
        except Exception:  # this plugin cannot read it; the next may
            continue
    return None


def photo_size(path, limit_bytes=MAX_BYTES, limit_pixels=MAX_PIXELS):
    """(width, height) of an uploaded file, from its header; FaceganError (one sentence for the page) unless it is
    an image within the limits."""
    size = os.path.getsize(path)
    if not size:
        raise FaceganError("the file is empty")
    if size > limit_bytes:
        raise FaceganError(f"the file is {size / 2**20:.1f} MB; the limit is {limit_bytes / 2**20:g} MB")
    try:
        with Image.open(path) as image:
            dimensions = image.size
    except Image.DecompressionBombError:  # far over Pillow's own limit, which says by how many pixels only
        dimensions = _header_size(path)
    except Exception:  # Pillow raises many kinds for a file that is not an image
        dimensions = None
    if dimensions is None:
        raise FaceganError("that file is not an image (use a JPEG, PNG, WebP or BMP photo)")
    width, height = dimensions
    if width * height > limit_pixels:
        raise FaceganError(f"{width}x{height} is over the {limit_pixels / 1e6:g}-megapixel limit")
    return width, height


def read_upload(path, name, from_age=None):
    """The Upload of a file that passed `photo_size`, decoded as `facegan age` decodes a photo."""
    from facegan.aging.photos import FULL_RESOLUTION
    from facegan.io.data import read_picture

    if from_age is not None and not 0 <= from_age <= 120:
        raise FaceganError(f"the age in the photo must be between 0 and 120, not {from_age:g}")
    try:
        picture = read_picture(path, FULL_RESOLUTION)
    except ValueError as problem:
        raise FaceganError(f"this photo cannot be used: {problem}") from None
    return Upload(_safe_name(name), np.asarray(picture), from_age)


class _CountingFinder:
    """A face finder (aging.finders) remembering how many faces it found last, so the page can say it aged the
    largest of several."""

    def __init__(self, finder):
        self.finder, self.found = finder, 0

    def find_faces(self, image):
        faces = self.finder.find_faces(image)
        self.found = len(faces)
        return faces


def _safe_name(name):
    """The upload's base name, harmless on disk; UTKFace-style names (AGE_...) keep their age, as with
    `facegan age`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(name or ""))[-100:].lstrip(".")
    return name or "photo"


class Engine:
    """Every model the page uses, loaded once. Not thread-safe: the app makes all calls from one thread."""

    def __init__(self, checkpoint=None, faces_checkpoint=None, projection=None, log=print):
        from facegan.aging.models import AgingModels
        from facegan.aging.finders import face_finder
        from facegan.io import model_folder

        aging_folder = model_folder.find(checkpoint, conditional=True)
        self.models = AgingModels.load(aging_folder)
        self.size = self.models.generator.output_shape[1]
        faces_folder = model_folder.find(faces_checkpoint, conditional=False)
        self.faces_generator = faces_folder.load_generator(conditional=False)
        self.projection = {"seed": 0, **(projection or {})}
        self.finder = _CountingFinder(face_finder())
        self.finder.find_faces(np.zeros((64, 64, 3), np.uint8))  # the finder's start-up (MTCNN: its graphs) now
        log(f"weights: {model_folder.describe(aging_folder.generator)} for aging, "
            f"{model_folder.describe(faces_folder.generator)} for new faces; faces found by "
            f"{self.finder.finder.name}")

    def _find_face(self, upload):
        """(face crop uint8, placement, source age or None, notes) of an Upload, or FaceganError."""
        from facegan.aging.photos import find_face
        from facegan.io.data import read_ages

        self.finder.found = 0
        try:
            face, placement = find_face(Image.fromarray(upload.picture), self.size, self.finder)
        except ValueError:
            raise FaceganError("no face found in this photo: try one where the face is larger, lit and turned to "
                               "the camera") from None
        notes = [f"{self.finder.found} faces found: aged the largest"] if self.finder.found > 1 else []
        source_age = upload.from_age
        if source_age is None:
            (source_age,), _problems = read_ages(NO_LABELS, [upload.name])
        return face, placement, source_age, notes

    def age_photos(self, uploads, progress=None):
        """Finds the largest face of each Upload and projects them together: for each, an AgedPhoto, or the
        FaceganError that says what is wrong with that photo (the others go on)."""
        from facegan.aging import algorithm
        from facegan.metrics import judges

        answers, found = [None] * len(uploads), {}
        for index, upload in enumerate(uploads):
            try:
                found[index] = self._find_face(upload)
            except FaceganError as problem:
                answers[index] = problem
        unknown = [index for index, (_face, _where, age, _notes) in found.items() if age is None]
        if unknown:
            try:
                estimates = judges.estimate_ages(to_unit(np.stack([found[index][0] for index in unknown])))
            except FaceganError:  # the aging extra is not installed
                estimates = [None] * len(unknown)
            for index, estimate in zip(unknown, estimates):
                face, placement, _age, notes = found.pop(index)
                if estimate is None:
                    answers[index] = FaceganError("the age in the photo could not be estimated (the aging extra "
                                                  "is not installed): type it in the box 'age in the photo'")
                else:
                    notes.append(f"age in the photo estimated at {estimate:.0f} (type it in if that is wrong)")
                    found[index] = face, placement, float(estimate), notes
        if not found:
            return answers
        indices = sorted(found)
        faces = to_unit(np.stack([found[index][0] for index in indices]))
        ages = np.array([found[index][2] for index in indices], np.float64)
        projection = algorithm.reproduce(self.models, faces, ages,
                                         progress=progress, **self.projection)
        for row, index in enumerate(indices):
            _face, placement, source_age, notes = found[index]
            answers[index] = AgedPhoto(uploads[index].name, uploads[index].picture, placement, faces[row],
                                       projection.codes[row], float(source_age), notes)
        return answers

    def faces_at(self, photos, target_ages):
        """{age: the faces of projected photos at that age} for each of `target_ages`, as `facegan age --to AGE`
        shows them (each photo plus what aging changed, at the calibrated default strength), (n, size, size, 3) in
        [-1, 1]; the ages drawn together (algorithm.at_ages). Those at the ages of the row are kept on each photo:
        the page's preview and download at 60 need no new pass of G."""
        from facegan.aging import algorithm

        for target_age in target_ages:
            if not 0 <= target_age <= 120:
                raise FaceganError(f"the target age must be between 0 and 120, not {target_age:g}")
        missing = [photo for photo in photos if any(age not in photo.faces for age in target_ages)]
        drawn = {}
        if missing:
            ages = [age for age in target_ages if any(age not in photo.faces for photo in missing)]
            faces = algorithm.at_ages(self.models, np.stack([photo.face for photo in missing]),
                                      np.stack([photo.code for photo in missing]),
                                      np.array([photo.source_age for photo in missing]), ages)
            drawn = dict(zip(ages, faces))
            for age, faces in drawn.items():
                if age in AGES:  # kept for the row's ages only: each of the slider's would not fit
                    for photo, face in zip(missing, faces):
                        photo.faces[age] = face
        return {age: np.stack([photo.faces[age] for photo in photos]) if age in AGES else drawn[age]
                for age in target_ages}

    def result(self, photo, target_age):
        """What the download button gives: the photo at its own resolution, its face at `target_age` (as
        `facegan age --to target_age` writes NAME.png)."""
        from facegan.aging.results import aged_photo

        return Image.fromarray(aged_photo(photo.picture, photo.placement, photo.face,
                                          self.faces_at([photo], [target_age])[target_age][0]))

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
