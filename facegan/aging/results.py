"""What `facegan age --out DIR` writes for each photo (the aged photo, a strip, the faces and ages as .npz, a row of
ages.csv) and what `facegan evaluate-aging` reads back."""
import os

import numpy as np

from facegan import FaceganError
from facegan.aging.placement import add_change, crop
from facegan.io.pixels import to_uint8, to_unit

AGES_FILE = "ages.csv"  # `facegan age --out DIR` adds a row per face to DIR/ages.csv: file,from_age,to_age
RESULT_KEYS = ("original", "reconstruction", "aged", "from_age", "to_age")  # of each face's NAME.npz


def save_result(path, original, reconstruction, aged, source_age, target_age):
    """One aged face as `facegan evaluate-aging` reads it back: a .npz of the three faces (uint8) and both ages."""
    from facegan.io.files import replaced_atomically

    with replaced_atomically(path) as temporary:
        np.savez(temporary, original=to_uint8(original), reconstruction=to_uint8(reconstruction),
                 aged=to_uint8(aged), from_age=source_age, to_age=target_age)


def save_aged(folder, names, photos, reconstructions, aged, target_age, size=None):
    """What `facegan age --out folder` writes for each photo: NAME.png (`aged_photo`), NAME.strip.png (before |
    reconstruction | after), NAME.npz (`save_result`), and its row of ages.csv."""
    from PIL import Image

    from facegan.io import pictures

    originals = to_unit(photos.faces)
    for name, picture, where, original, reconstruction, face, source_age in zip(
            names, photos.pictures, photos.placements, originals, reconstructions, aged, photos.ages):
        pictures.save_image(Image.fromarray(aged_photo(picture, where, original, face, size)),
                            os.path.join(folder, f"{name}.png"))
        pictures.save_image(pictures.grid(np.stack([original, reconstruction, face]), columns=3),
                            os.path.join(folder, f"{name}.strip.png"))
        save_result(os.path.join(folder, f"{name}.npz"), original, reconstruction, face, source_age, target_age)
    append_ages(folder, [(f"{name}.png", source_age, target_age) for name, source_age in zip(names, photos.ages)])


def append_ages(folder, rows):
    """Adds (file, from_age, to_age) rows to the folder's ages.csv, a log that no later run overwrites."""
    path = os.path.join(folder, AGES_FILE)
    new = not os.path.isfile(path)
    with open(path, "a", newline="") as f:
        if new:
            f.write("file,from_age,to_age\n")
        f.writelines(f"{name},{source:g},{target:g}\n" for name, source, target in rows)


def read_results(folder):
    """Every face that `facegan age --out folder` saved (its latest run for each photo): (originals,
    reconstructions, aged) in [-1, 1], then the source and target ages."""
    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".npz")) \
        if os.path.isdir(folder) else []
    if not paths:
        raise FaceganError(f"{folder}: no .npz results here: not a `facegan age --out` folder")
    results = []
    for path in paths:
        try:
            with np.load(path) as saved:
                results.append({key: saved[key] for key in RESULT_KEYS})
        except (OSError, ValueError, KeyError) as problem:
            raise FaceganError(f"{path}: not a result of `facegan age` ({problem})") from None
    originals, reconstructions, aged = (to_unit(np.stack([result[key] for result in results]))
                                        for key in RESULT_KEYS[:3])
    return (originals, reconstructions, aged, *(np.array([float(result[key]) for result in results])
                                                for key in RESULT_KEYS[3:]))


def aged_photo(photo, placement, original, aged, size=None):
    """The photo ((h, w, 3) uint8, as `read_photos` gives it) with what aging changed (`aged - original`, faces in
    [-1, 1]) added where its face sits; with `size`, only the face crop at size x size."""
    photo = add_change(photo, placement, np.asarray(aged) - np.asarray(original))
    return photo if size is None else crop(photo, placement, size)
