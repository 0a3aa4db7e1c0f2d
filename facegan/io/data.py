"""Face folders -> uint8 arrays, decoded once and cached, because decoding 20,000 JPEGs each run wastes minutes.

Every image below a folder is read (EXIF orientation honoured, any colour mode made RGB), centre-cropped to a
square and resized with Lanczos. Unreadable files are skipped and reported together, never fatal.
"""
import concurrent.futures
import hashlib
import json
import math
import os
import re
import warnings

import numpy as np
from PIL import Image, ImageOps

from facegan import FaceganError
from facegan.io.files import replaced_atomically
from facegan.io.pixels import to_unit

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
# Photos are far smaller; anything bigger is a decompression bomb, not a face.
MAX_PIXELS = 64_000_000
CACHE_VERSION = 1


def default_cache_dir():
    return os.environ.get("FACEGAN_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "facegan"))


def find_images(folder, exclude=None):
    """Image paths below `folder`, sorted so that every run sees them in the same order; without those whose file
    names are also in the folder `exclude` (faces held out for evaluation, as data/ is from UTKFace)."""
    for given in filter(None, (folder, exclude)):
        if not os.path.isdir(given):
            raise FaceganError(f"{given}: no such folder")
    held_out = set(os.listdir(exclude)) if exclude else set()
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [os.path.join(root, f) for f in files if f.lower().endswith(IMAGE_EXTENSIONS) and f not in held_out]
    return sorted(paths)


def _to_rgb(image):
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # Pillow's own conversion clips 16-bit values at 255; scale them instead.
        levels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or levels.max() > 255 else 255.0
        image = Image.fromarray(np.clip(levels / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if image.mode in ("P", "PA", "LA", "RGBA"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def read_face(path, image_size):
    """One file -> (image_size, image_size, 3) uint8; raises ValueError saying what is wrong with the file."""
    return centre_face(read_picture(path, image_size), image_size)


def centre_face(image, image_size):
    """A PIL image's centre square at image_size x image_size, uint8: how every face is framed for the models."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.resize((image_size, image_size), Image.LANCZOS, box=(left, top, left + side, top + side))
    return np.asarray(image, dtype=np.uint8)


def shrunk(image, smallest_useful_side):
    """A PIL image reduced by the largest of 2, 4 or 8 that keeps its short side at least `smallest_useful_side`,
    each pixel the mean of a block, as read_picture's JPEG draft decoding does: a photo already decoded whole,
    brought to the size a task needs."""
    factor = next(f for f in (8, 4, 2, 1) if f == 1 or min(image.size) >= f * smallest_useful_side)
    return image.reduce(factor)


def read_picture(path, smallest_useful_side):
    """One file -> an RGB PIL image, upright, decoded no smaller than needed; ValueError says what is wrong."""
    image_size = smallest_useful_side
    if os.path.getsize(path) == 0:
        raise ValueError("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ValueError(f"{width}x{height} pixels is too large (decompression bomb?)")
                # JPEG can decode straight at a reduced scale: much faster, and still >= the target size.
                scale = image_size / min(width, height)
                if scale < 1:
                    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
                image = _to_rgb(ImageOps.exif_transpose(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"too large (decompression bomb?): {error}") from None
    except Image.UnidentifiedImageError:
        raise ValueError("not an image") from None
    except (OSError, SyntaxError, EOFError) as error:
        raise ValueError(f"unreadable: {error}") from None
    return image


def cache_key(folder, paths, image_size):
    digest = hashlib.sha256(f"v{CACHE_VERSION} {os.path.abspath(folder)} {image_size}\n".encode())
    for path in paths:
        status = os.stat(path)
        digest.update(f"{os.path.relpath(path, folder)} {status.st_size} {status.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


class FaceSet:
    """Decoded faces of one folder: `images` (N, size, size, 3) uint8 and the `files` they came from."""

    def __init__(self, images, files, skipped, ages=None):
        self.images = images
        self.files = files
        self.skipped = skipped  # [(file, reason)] of inputs that could not be used
        self.ages = ages  # whole years per face, for the conditional pair; None when not asked for

    def __len__(self):
        return len(self.images)

    def batch(self, indices):
        """Faces scaled to [-1, 1] as float32, the generator's tanh range."""
        return to_unit(self.images[indices])

    def with_ages(self, folder):
        """Only the faces with a usable age (see `read_ages`); the others join `skipped`."""
        ages, problems = read_ages(folder, self.files)
        keep = np.array([age is not None for age in ages], bool)
        return FaceSet(self.images[keep], [f for f, k in zip(self.files, keep) if k], self.skipped + problems,
                       np.array([age for age in ages if age is not None], np.int32))

    def warn_about_skipped(self, log=print):
        if self.skipped:
            named = ", ".join(f"{os.path.basename(f)} ({why})" for f, why in self.skipped[:10])
            more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
            log(f"warning: skipped {len(self.skipped)} unusable file(s): {named}{more}")


def load_faces(folder, image_size, cache_dir=None, workers=None, progress=True, exclude=None):
    """All faces below `folder` at `image_size` (less those named in `exclude`, see `find_images`), from the cache
    when the folder has not changed."""
    paths = find_images(folder, exclude)
    if not paths:
        raise FaceganError(f"{folder}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)}"
                           + (f", not named in {exclude})" if exclude else ")"))
    cache_dir = cache_dir or default_cache_dir()
    key = cache_key(folder, paths, image_size)
    images_file = os.path.join(cache_dir, f"{key}.npy")
    index_file = os.path.join(cache_dir, f"{key}.json")
    if os.path.exists(images_file) and os.path.exists(index_file):
        with open(index_file) as f:
            index = json.load(f)
        files = [os.path.join(folder, name) for name in index["files"]]
        return FaceSet(np.load(images_file, mmap_mode="r"), files, [tuple(s) for s in index["skipped"]])

    images, files, skipped = _decode_all(paths, image_size, workers, progress)
    if not files:
        raise FaceganError(f"{folder}: none of the {len(paths)} files is a usable image")
    os.makedirs(cache_dir, exist_ok=True)
    with replaced_atomically(images_file) as temporary:
        np.save(temporary, images)
    index = {"files": [os.path.relpath(f, folder) for f in files], "skipped": skipped}
    with replaced_atomically(index_file) as temporary, open(temporary, "w") as f:
        json.dump(index, f)
    return FaceSet(images, files, skipped)


def _decode_all(paths, image_size, workers, progress):
    # Pillow releases the GIL while decoding and resizing, so threads use every core.
    workers = workers or os.cpu_count() or 1
    images = np.empty((len(paths), image_size, image_size, 3), np.uint8)
    bar = _progress_bar(len(paths), "decoding") if progress else None
    files, skipped = [], []

    def decode(path):
        try:
            return read_face(path, image_size), None
        except ValueError as problem:
            return None, str(problem)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for done, (path, (image, problem)) in enumerate(zip(paths, pool.map(decode, paths)), 1):
            if problem is None:
                images[len(files)] = image
                files.append(path)
            else:
                skipped.append((path, problem))
            if bar and (done % 256 == 0 or done == len(paths)):
                bar.update(done)
    return images[: len(files)], files, skipped


def _progress_bar(total, unit):
    from facegan.io import progress

    print(f"{unit} {total} images (cached for the next run)")
    return progress.bar(total, "image")


def read_inputs(paths, image_size):
    """The faces named on a command line (files, or folders searched recursively), uncached: they are few.
    Unusable files are skipped and listed in `skipped`, as in training."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += find_images(path)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FaceganError(f"{path}: no such file or folder")
    images, usable, skipped = _decode_all(files, image_size, workers=None, progress=False)
    if not usable:
        where = ", ".join(paths) if len(paths) < 4 else f"{paths[0]} and {len(paths) - 1} more"
        raise FaceganError(f"{where}: no usable image among {len(files)} file(s)"
                           + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))
    return FaceSet(images, usable, skipped)


LABELS_FILE = "labels.csv"


def read_ages(folder, files):
    """Each file's age in whole years, from `labels.csv` in `folder` (columns file,age; file relative to the
    folder) when there is one, else from a UTKFace file name (AGE_GENDER_RACE_DATE...). Returns the ages (None
    where unusable) and [(file, reason)] for those."""
    labels_path = os.path.join(folder, LABELS_FILE)
    labels = None
    if os.path.exists(labels_path):
        import csv

        with open(labels_path, newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"file", "age"} <= set(reader.fieldnames):
                raise FaceganError(f"{labels_path}: needs the columns file,age (found {reader.fieldnames})")
            labels = {os.path.normpath(row["file"]): row["age"] for row in reader}
    ages, problems = [], []
    for path in files:
        relative = os.path.normpath(os.path.relpath(path, folder))
        if labels is not None:
            text = labels.get(relative)
            where = f"no row in {LABELS_FILE}"
        else:
            match = re.match(r"(\d+)_", os.path.basename(path))
            text = match.group(1) if match else None
            where = f"no age in the file name (AGE_...) and no {LABELS_FILE}"
        try:
            age = float(text) if text is not None else None
        except ValueError:
            age, where = None, f"age {text!r} is not a number"
        if age is not None and not 0 <= age <= 120:
            age, where = None, f"age {text} is outside 0-120"
        ages.append(None if age is None else int(round(age)))
        if age is None:
            problems.append((path, where))
    return ages, problems


def read_genders(files):
    """Each file's gender from a UTKFace file name (AGE_GENDER_...: 0 male, 1 female), None where it has none."""
    matches = (re.match(r"\d+_([01])_", os.path.basename(path)) for path in files)
    return [int(match.group(1)) if match else None for match in matches]
