"""The gender of a face, kept while it ages. UTKFace's 55-65-year-olds are 70% men and its 18-35s 45%, so the
age-conditional G learned that faces grow more male with age: redrawn older at the same z, a young woman's face
drifts towards a man's, and that drift costs the person more than the aging itself (docs/aging.md).

The reader: a logistic regression on the latent encoder's last features (before its z layer), fit on labelled
training faces, weighted so that each age group counts men and women alike (age then tells it nothing about
gender). Its logit is linear in z for G's faces, along `direction`; aging moves each z along it by the offset that
keeps the reader's logit at the target age where it was at the source age (`kept_gender_offsets`).
"""
from dataclasses import dataclass, fields

import keras
import numpy as np

from facegan.aging.features import (FeatureReader, encoder_probe, features_model, load_fit, save_fit,
                                     standardised_features)
from facegan.gan.prior import AGE_GROUPS, age_group, draw, noise_dim, random_age_conditions, sample_noise

L2 = 0.05             # on the weights of the standardised features; with it, 85% right on the bundled sample
EPOCHS = 30
DIRECTION_SAMPLES = 500  # G's faces whose logits give the direction in z
OFFSET_ITERATIONS = 3
LARGEST_OFFSET = 2.0  # along the unit direction; z's coordinates lie in [-1, 1]


@dataclass
class GenderReader(FeatureReader):
    """A FeatureReader whose reading is the logit of "female", and what it does to G's faces in z."""
    direction: np.ndarray = None  # (noise_dim,), unit: the z direction along which G's faces read more female
    slope: float = 0.0            # logit per unit of z along `direction`
    probe: np.ndarray = None      # facegan.aging.features.encoder_probe: which encoder it reads


SAVED = [field.name for field in fields(GenderReader) if field.name != "features"]


def fit_reader(encoder, generator, faces, genders, ages, seed=0):
    """A GenderReader for faces in [-1, 1] with genders (0 male, 1 female, as UTKFace names them) and ages."""
    features, standard, mean, scale = standardised_features(encoder, faces)
    genders = np.asarray(genders, np.float32)
    groups = np.array([age_group(int(round(age))) for age in ages])
    balance = np.zeros(len(genders), np.float32)
    for group in range(len(AGE_GROUPS)):
        for gender in (0, 1):
            chosen = (groups == group) & (genders == gender)
            balance[chosen] = 1.0 / max(chosen.sum(), 1)
    balance *= len(balance) / balance.sum()
    keras.utils.set_random_seed(seed)
    head = keras.Sequential([keras.Input(standard.shape[1:]),
                             keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(L2))])
    head.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    head.fit(standard, genders, sample_weight=balance, epochs=EPOCHS, batch_size=256, verbose=0)
    kernel, bias = (keras.ops.convert_to_numpy(value) for value in head.layers[-1].weights)
    reader = GenderReader(kernel[:, 0], float(bias[0]), mean, scale, features, probe=encoder_probe(encoder))
    rng = np.random.default_rng(seed)
    codes = sample_noise(rng, DIRECTION_SAMPLES, noise_dim(generator))
    conditions = random_age_conditions(rng, DIRECTION_SAMPLES)
    read = reader.read(draw(generator, codes, conditions))
    coefficients = np.linalg.lstsq(np.concatenate([codes, conditions], axis=1), read, rcond=None)[0]
    along = coefficients[:codes.shape[1]]
    reader.direction, reader.slope = (along / np.linalg.norm(along)).astype(np.float32), float(np.linalg.norm(along))
    return reader


def kept_gender_offsets(generator, reader, codes, source_conditions, target_conditions, goal=None):
    """How far to move each z along the reader's direction so that G's face at the target condition reads as
    female (or male) as at the source (`goal`, its logits there, where already read): a few Newton steps with
    the fitted slope."""
    if goal is None:
        goal = reader.read(draw(generator, codes, source_conditions))
    offsets = np.zeros(len(codes), np.float32)
    for _ in range(OFFSET_ITERATIONS):
        moved = codes + offsets[:, None] * reader.direction
        offsets += (goal - reader.read(draw(generator, moved, target_conditions))) / reader.slope
        offsets = np.clip(offsets, -LARGEST_OFFSET, LARGEST_OFFSET)
    return offsets


def save_reader(reader, path):
    save_fit(path, {name: getattr(reader, name) for name in SAVED})


def load_reader(path, encoder):
    """The reader at `path`, checked to read this encoder's features; None where there is no file."""
    saved = load_fit(path, SAVED, encoder_probe(encoder), "gender reader", "latent encoder", "facegan fit-gender")
    if saved is None:
        return None
    return GenderReader(**{**saved, "bias": float(saved["bias"]), "slope": float(saved["slope"]),
                           "features": features_model(encoder)})
