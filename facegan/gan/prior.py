"""The noise prior, z ~ U(-1, 1)^100, and the age groups the conditional pair takes beside z: every command and
the training loop draw their inputs from here, so that they all sample the distribution G was trained on."""
import numpy as np

NOISE_DIM = 100
# The conditional pair's age groups, as one-hot conditions (after Age-cGAN's six). Unlike its open "60+", a
# group is centred on 60 and closed at 65, so that `--to 60` asks for 55-65-year-olds, not for everyone over 60.
AGE_GROUPS = ((0, 12), (13, 19), (20, 29), (30, 39), (40, 54), (55, 65), (66, 120))
OLDEST = 120
DRAW_BATCH = 64  # faces G draws in one pass


def noise_dim(generator):
    """The length of z that a (conditional or plain) generator takes."""
    return generator.inputs[0].shape[-1]


def sample_noise(rng, count, dim=NOISE_DIM):
    """(count, dim) float32 draws of the uniform prior."""
    return rng.uniform(-1.0, 1.0, (count, dim)).astype(np.float32)


def neighbours(codes, count, spread, seed=0):
    """(count, n, dim) z's near each of `codes`: every coordinate moved by N(0, spread^2), the same `count` moves
    for every code (so a face's neighbours do not depend on the others in its batch), kept inside the cube."""
    codes = np.asarray(codes, np.float32)
    moves = np.random.default_rng(seed).normal(0.0, spread, (count, 1, codes.shape[-1]))
    return np.clip(codes[None] + moves, -1.0, 1.0).astype(np.float32)


def random_ages(rng, count):
    """Whole ages drawn uniformly from 0-120, as generate and evaluate ask a conditional generator for."""
    return rng.integers(0, OLDEST + 1, count)


def age_group(age):
    """Index of the group of AGE_GROUPS that holds `age` (whole years, 0-120)."""
    for index, (youngest, oldest) in enumerate(AGE_GROUPS):
        if youngest <= age <= oldest:
            return index
    raise ValueError(f"age {age} is outside 0-{OLDEST}")


def age_conditions(ages):
    """One-hot age groups, (n, len(AGE_GROUPS)) float32: the condition the conditional pair takes."""
    groups = [age_group(int(round(age))) for age in np.ravel(ages)]
    return np.eye(len(AGE_GROUPS), dtype=np.float32)[groups]


def random_age_conditions(rng, count):
    """One-hot groups drawn uniformly over the groups (not over years), so that every group is covered."""
    return np.eye(len(AGE_GROUPS), dtype=np.float32)[rng.integers(0, len(AGE_GROUPS), count)]


def age_sweep(noise):
    """Each z once per age group, youngest first: (z repeated, one-hot conditions, groups per row)."""
    groups = len(AGE_GROUPS)
    conditions = np.tile(np.eye(groups, dtype=np.float32), (len(noise), 1))
    return np.repeat(noise, groups, axis=0), conditions, groups


def draw(generator, codes, conditions=None):
    """G(z), or G(z, c) for a conditional generator."""
    return predicted(generator, codes if conditions is None else [codes, conditions])


def predicted(model, inputs, batch_size=DRAW_BATCH):
    """model.predict(inputs), a batch at a time through predict_on_batch: the same numbers without predict's input
    pipeline, which took a third of the time of each of aging's passes of G on 2 cores."""
    arrays = inputs if isinstance(inputs, list) else [inputs]
    count = len(arrays[0])
    batches = [model.predict_on_batch([array[start:start + batch_size] for array in arrays] if len(arrays) > 1
                                      else arrays[0][start:start + batch_size])
               for start in range(0, count, batch_size)]
    return np.concatenate([np.asarray(batch) for batch in batches]) if batches else model.predict(inputs, verbose=0)
