"""Projecting real faces into z: G has no inverse, so we search for the z whose image is closest.

Following Yeh et al. (2017, semantic image inpainting), each face's z minimises
    contextual loss  sum over pixels of  weight * |G(z) - face|     (weights: 1, or 0 in a hole to fill)
  + lambda x perceptual loss  log(1 - D(G(z)))                       (how fake the discriminator finds it)
Both terms are per image and summed over the batch, never divided by it, so a face's result does not depend on
how many faces are projected with it. z stays in [-1, 1], the prior's support, by clipping after every step.

With a latent encoder E (facegan.latent.encoder), the search starts from E's guess, E(face), and needs far fewer steps
and one start.

z alone cannot draw most real faces as themselves (a 100-number code for a 64x64 face). With `refine_steps`, the
same loss then searches one layer deeper, as Bau et al. (2019, "Seeing what a GAN cannot generate") invert a
generator's intermediate layer: from G's first 4x4 feature map at z, the map itself is moved, and the rest of G
draws the face. The z is kept for face math; the refined map gives the reconstruction.

The search itself is a Keras model whose only trainable weights are the codes (z, or the maps), trained with
`train_on_batch`: the same code runs on every Keras backend. G and D are frozen for it, which also runs their
batch normalisation in inference mode (moving averages), as when sampling.
"""
import contextlib
import dataclasses

import keras
import numpy as np
from keras import ops

from facegan.gan.models import is_conditional, split_at_feature_map
from facegan.gan.prior import draw, noise_dim, sample_noise
from facegan.io.pixels import in_levels
from facegan.latent.defaults import (LEARNING_RATE, PERCEPTUAL_WEIGHT, RESTARTS, RESTARTS_FROM_ENCODER, STEPS,
                                     STEPS_FROM_ENCODER)

FEATURE_LEARNING_RATE = 0.05  # Adam's, for the feature map when refining
CHUNK = 64  # codes optimised together; memory grows with it


class _InPrior(keras.constraints.Constraint):
    def __call__(self, codes):
        return ops.clip(codes, -1.0, 1.0)


class LatentCodes(keras.layers.Layer):
    """A table of codes, one per face (and restart) being projected, looked up by index: z vectors kept in the
    prior's cube, or (refining) feature maps kept non-negative, as the ReLU that made them leaves them."""

    def __init__(self, initial_codes, constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.codes = self.add_weight(shape=initial_codes.shape, name="codes", constraint=constraint or _InPrior(),
                                     initializer=keras.initializers.Constant(initial_codes))

    def call(self, indices):
        return ops.take(self.codes, ops.reshape(ops.cast(indices, "int32"), (-1,)), axis=0)


def contextual_loss(faces_and_weights, images):
    """Weighted L1 distance of each image to its face; the weights ride along as a fourth channel."""
    faces, weights = faces_and_weights[..., :3], faces_and_weights[..., 3:]
    return ops.sum(weights * ops.abs(images - faces), axis=(1, 2, 3))


def perceptual_loss(_unused, scores):
    """log(1 - D(G(z))) per image: lower when D finds the image real."""
    return ops.reshape(ops.log(1.0 - ops.clip(scores, 0.0, 1.0 - 1e-6)), (-1,))


class _SummedOverFaces(keras.losses.Loss):
    """A per-image loss summed over the batch (Keras' default would divide by the batch size)."""

    def __init__(self, per_image):
        super().__init__(name=per_image.__name__, reduction="sum")
        self.per_image = per_image

    def call(self, targets, outputs):
        return self.per_image(targets, outputs)


@dataclasses.dataclass
class Projection:
    codes: np.ndarray            # (n, noise_dim), the best z of each face
    reconstructions: np.ndarray  # (n, size, size, 3) = G(codes), or the tail of G on `features`; in [-1, 1]
    errors: np.ndarray           # (n,) mean absolute pixel error over the weighted pixels, in 0-255 levels
    features: np.ndarray = None  # (n, 4, 4, channels): G's first feature map, refined from its value at z


@contextlib.contextmanager
def frozen(*models):
    """Projection never trains G or D, and frozen, their BN layers run on moving averages. Outside the recipe
    this is the one place that touches `trainable`, and it puts back what it found."""
    before = [model.trainable for model in models]
    for model in models:
        model.trainable = False
    try:
        yield
    finally:
        for model, trainable in zip(models, before):
            model.trainable = trainable


def project(generator, discriminator, faces, weights=None, known=None, conditions=None, encoder=None,
            steps=None, restarts=None, perceptual_weight=PERCEPTUAL_WEIGHT, learning_rate=LEARNING_RATE, seed=0,
            refine_steps=0, progress=None):
    """Best z for each face in `faces` ((n, size, size, 3) in [-1, 1]); `weights` (n, size, size, 1) marks the
    pixels that count (default: all) and `known` those the encoder may see (default: weights above 0). For a
    conditional pair, G(z, c) and D(x, c), `conditions` (n, k) holds each face's c, held fixed while z is
    searched. An `encoder`'s guess starts the first restart, the others start at random; `steps` and
    `restarts` default to STEPS_FROM_ENCODER and RESTARTS_FROM_ENCODER with an encoder, else STEPS and
    RESTARTS. `refine_steps` then refine G's first feature map (see the module's docstring).
    `progress(done_steps, total_steps)` is called as it goes, from 0 again for the refinement."""
    faces = np.asarray(faces, np.float32)
    weights = np.ones(faces.shape[:3] + (1,), np.float32) if weights is None else np.asarray(weights, np.float32)
    if conditions is not None:
        conditions = np.asarray(conditions, np.float32).reshape(len(faces), -1)
    known = weights > 0 if known is None else known
    initial_codes = None if encoder is None else encoder_guess(encoder, faces, known)
    if steps is None:
        steps = STEPS if encoder is None else STEPS_FROM_ENCODER
    if restarts is None:
        restarts = RESTARTS if encoder is None else RESTARTS_FROM_ENCODER
    with frozen(generator, discriminator):
        found = _project(generator, discriminator, faces, weights, conditions, initial_codes, steps, restarts,
                         perceptual_weight, learning_rate, seed, progress)
        if not refine_steps:
            return found
        return _refine(generator, discriminator, faces, weights, conditions, found.codes, refine_steps,
                       perceptual_weight, progress)


def encoder_guess(encoder, faces, known):
    """E's z for each face; a hole (`known` 0: pixels of weight 0) is first filled with the mean colour of the
    face's known pixels, so that E sees a plain patch of skin tone rather than a black square."""
    known = np.asarray(known, np.float32)
    mean = (faces * known).sum(axis=(1, 2), keepdims=True) / np.maximum(known.sum(axis=(1, 2), keepdims=True), 1)
    filled = known * faces + (1.0 - known) * mean
    return np.clip(encoder.predict(filled, verbose=0, batch_size=CHUNK), -1.0, 1.0)


def _project(generator, discriminator, faces, weights, conditions, initial_codes, steps, restarts,
             perceptual_weight, learning_rate, seed, progress):
    dim = noise_dim(generator)
    rng = np.random.default_rng(seed)
    faces_per_chunk = max(1, CHUNK // restarts)
    chunks = range(0, len(faces), faces_per_chunk)
    total_steps = len(chunks) * steps
    codes, errors = np.empty((len(faces), dim), np.float32), np.empty(len(faces), np.float32)
    for number, start in enumerate(chunks):
        chunk = slice(start, start + faces_per_chunk)
        count = len(faces[chunk])
        # every restart of a face is one more row: face i's restarts are rows i, i + count, ...
        targets = np.tile(np.concatenate([faces[chunk], weights[chunk]], axis=-1), (restarts, 1, 1, 1))
        chunk_conditions = None if conditions is None else np.tile(conditions[chunk], (restarts, 1))
        initial = sample_noise(rng, count * restarts, dim)
        if initial_codes is not None:
            initial[:count] = initial_codes[chunk]
        search = _search_model(generator, discriminator, initial, chunk_conditions, perceptual_weight,
                               learning_rate)
        indices = np.arange(count * restarts, dtype=np.int32)
        inputs = indices if chunk_conditions is None else [indices, chunk_conditions]
        candidates = _optimise(search, inputs, targets, steps, progress, number * steps, total_steps)
        per_pixel = _mean_weighted_error(draw(generator, candidates, chunk_conditions), targets)
        best = per_pixel.reshape(restarts, count).argmin(axis=0)
        rows = best * count + np.arange(count)
        codes[chunk], errors[chunk] = candidates[rows], per_pixel[rows]
    return Projection(codes, draw(generator, codes, conditions), errors)


def _refine(generator, discriminator, faces, weights, conditions, codes, steps, perceptual_weight, progress):
    """The feature map searched from head(z); a condition enters G with z, before the map, so only D still
    takes it."""
    head, tail = split_at_feature_map(generator)
    features = np.empty((len(faces),) + tuple(tail.input_shape[1:]), np.float32)
    chunks = range(0, len(faces), CHUNK)
    for number, start in enumerate(chunks):
        chunk = slice(start, start + CHUNK)
        chunk_conditions = None if conditions is None else conditions[chunk]
        at_z = head.predict(codes[chunk] if conditions is None else [codes[chunk], chunk_conditions], verbose=0)
        search = _search_model(tail, discriminator, at_z, chunk_conditions, perceptual_weight,
                               FEATURE_LEARNING_RATE, keras.constraints.NonNeg())
        targets = np.concatenate([faces[chunk], weights[chunk]], axis=-1)
        indices = np.arange(len(targets), dtype=np.int32)
        features[chunk] = _optimise(search, indices if conditions is None else [indices, chunk_conditions],
                                    targets, steps, progress, number * steps, len(chunks) * steps)
    reconstructions = tail.predict(features, verbose=0, batch_size=CHUNK)
    errors = _mean_weighted_error(reconstructions, np.concatenate([faces, weights], axis=-1))
    return Projection(codes, reconstructions, errors, features)


def _optimise(search, inputs, targets, steps, progress, done_steps, total_steps):
    """`steps` of Adam on a search model's codes; returns them."""
    unused_score_targets = np.zeros((len(targets), 1), np.float32)
    for step in range(1, steps + 1):
        search.train_on_batch(inputs, [targets, unused_score_targets])
        if progress:
            progress(done_steps + step, total_steps)
    return keras.ops.convert_to_numpy(search.get_layer("codes").codes)


def _search_model(generator, discriminator, initial_codes, conditions, perceptual_weight, learning_rate,
                  constraint=None):
    indices = keras.Input(shape=(), dtype="int32", name="face")
    codes = LatentCodes(initial_codes, constraint, name="codes")(indices)
    if conditions is None:
        inputs, images = indices, generator(codes)
        scores = discriminator(images)
    else:
        condition = keras.Input(shape=conditions.shape[1:], name="condition")
        inputs = [indices, condition]
        images = generator([codes, condition]) if is_conditional(generator) else generator(codes)
        scores = discriminator([images, condition])
    model = keras.Model(inputs, [images, scores])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=[_SummedOverFaces(contextual_loss), _SummedOverFaces(perceptual_loss)],
                  loss_weights=[1.0, perceptual_weight])
    return model


def _mean_weighted_error(images, faces_and_weights):
    faces, weights = faces_and_weights[..., :3], faces_and_weights[..., 3:]
    total = np.sum(weights * np.abs(images - faces), axis=(1, 2, 3))
    return in_levels(total) / np.maximum(3 * np.sum(weights, axis=(1, 2, 3)), 1)
