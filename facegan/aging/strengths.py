"""A strength for each pair of age groups. The age condition's step from one group to another ages some groups'
faces more than others': at one strength the former shipped pair's 20-29-year-olds aged to 60 read older than
its 30-35s (docs/aging.md), and lose more of the person. The table holds, for each (source group, target group),
the multiple of the calibrated strength at which G's faces of the source group age as far as those of
REFERENCE_GROUP do at the calibrated strength itself, as an age reader of our own reads them; `facegan age` then
ages each face by the calibrated strength times its own pair's multiple. The calibrated strength is the pair's
own, saved with its table: pairs differ in how far a step of the condition ages a photo.

The reader: a ridge regression on the latent encoder's last features (as the gender reader's, facegan.aging.gender),
fit on labelled faces. Its own scale is off (it reads G's aged faces older than real faces of that age), so only
comparisons between groups at one target are taken from it, never an age itself.
"""
import numpy as np

from facegan import FaceganError
from facegan.aging import algorithm, defaults
from facegan.aging.features import FeatureReader, generator_probe, load_fit, save_fit, standardised_features
from facegan.gan.prior import AGE_GROUPS, age_conditions, age_group, draw, noise_dim, sample_noise

REFERENCE_GROUP = age_group(25)     # the 20-29s: the calibrated strength is theirs
RIDGE = 10.0                        # on the standardised features
MULTIPLES = (0.6, 0.8, 1.0, 1.2, 1.4, 1.6)  # of the calibrated strength, tried for each pair; the table stays inside
# G's faces drawn for each source group, and the z's near each that its change is averaged over (fewer than
# `facegan age`'s: many faces with few z's each vary less from one seed to another than few faces with many)
FACES = 128
FIT_CHANGE_SAMPLES = 8


def fit_age_reader(encoder, faces, ages):
    """A FeatureReader (facegan.aging.features) of the age in years of faces in [-1, 1]."""
    features, standard, mean, scale = standardised_features(encoder, faces)
    ages = np.asarray(ages, np.float64)
    weights = np.linalg.solve(standard.T @ standard + RIDGE * np.eye(standard.shape[1]),
                              standard.T @ (ages - ages.mean()))
    return FeatureReader(weights, float(ages.mean()), mean, scale, features)


def _crossing(multiples, readings, goal):
    """The multiple at which the readings (one per multiple) first reach `goal`, linearly between two tried;
    where they never do, the tried multiple read nearest to it."""
    for (low, high), (before, after) in zip(zip(multiples, multiples[1:]), zip(readings, readings[1:])):
        if min(before, after) <= goal <= max(before, after) and before != after:
            return low + (goal - before) / (after - before) * (high - low)
    return multiples[int(np.argmin(np.abs(np.asarray(readings) - goal)))]


def fit_table(models, reader, faces=None, seed=0, progress=None):
    """The (groups, groups) table of multiples of the pair's calibrated strength (models.photo_strength), G's faces
    aged as `facegan age` ages them with `models` (facegan.aging.models.AgingModels: G and the run's gender
    reader); each source group's `faces` (None: FACES) are G's own at a whole age of that group, so no photos are
    needed. A pair's entry is 1 where the source is REFERENCE_GROUP, where the target is (there is no
    reference step to match), and on the diagonal (no step at all)."""
    groups = len(AGE_GROUPS)
    table = np.ones((groups, groups))
    faces = faces or FACES
    generator, base = models.generator, models.photo_strength
    codes = sample_noise(np.random.default_rng(seed), faces, noise_dim(generator))
    representative = [int(np.mean(bounds)) for bounds in AGE_GROUPS]

    ages = [np.full(faces, representative[group], np.float64) for group in range(groups)]
    own = [draw(generator, codes, age_conditions(group_ages)) for group_ages in ages]  # G's faces of each group

    def readings(group, target, multiples):
        return [float(np.mean(reader.read(algorithm.at_age(models, own[group], codes, ages[group],
                                                           representative[target], base * multiple,
                                                           samples=FIT_CHANGE_SAMPLES))))
                for multiple in multiples]

    targets = [target for target in range(groups) if target != REFERENCE_GROUP]
    goals = {target: readings(REFERENCE_GROUP, target, [1.0])[0] for target in targets}
    pairs = [(source, target) for target in targets for source in range(groups)
             if source not in (target, REFERENCE_GROUP)]
    for done, (source, target) in enumerate(pairs, 1):
        table[source, target] = _crossing(MULTIPLES, readings(source, target, MULTIPLES), goals[target])
        if progress:
            progress(done, len(pairs))
    return table


def save_table(table, photo_strength, generator, path):
    """The table and the calibrated strength that its multiples scale, checked on loading to belong to G."""
    save_fit(path, {"strengths": table, "photo_strength": np.float64(photo_strength),
                    "probe": generator_probe(generator)})


def load_table(path, generator):
    """(the table at `path`, checked to belong to this generator, and its calibrated strength); (None,
    defaults.PHOTO_STRENGTH) where there is no file. Tables saved without a strength were fit at that default."""
    saved = load_fit(path, ("strengths", "probe"), generator_probe(generator), "strength table", "generator",
                     "facegan fit-strengths", optional=("photo_strength",))
    if saved is None:
        return None, defaults.PHOTO_STRENGTH
    photo_strength = float(saved.get("photo_strength", defaults.PHOTO_STRENGTH))
    if not np.isfinite(photo_strength) or photo_strength <= 0:
        raise FaceganError(f"{path}: its calibrated strength is {photo_strength:g}, not a positive number")
    groups = len(AGE_GROUPS)
    if saved["strengths"].shape != (groups, groups):
        raise FaceganError(f"{path}: not a strength table (its table is {saved['strengths'].shape}, not "
                           f"{groups}x{groups})")
    return saved["strengths"], photo_strength
