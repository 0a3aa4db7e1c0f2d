"""Projection: it finds a z that the generator really made, never trains G or D, counts only the weighted pixels,
and starts from an encoder's guess when there is one."""
import keras
import numpy as np
import pytest

from facegan.latent.defaults import RESTARTS_FROM_ENCODER, STEPS_FROM_ENCODER
from facegan.latent.projection import (_SummedOverFaces, contextual_loss,
                                       encoder_guess, perceptual_loss, project)
from facegan.gan.models import build_discriminator, build_generator, split_at_feature_map

from tests.conftest import TINY


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(3)
    return build_generator(**TINY), build_discriminator(**TINY)


def weights_of(model):
    return [weight.numpy() for weight in model.weights]


def test_recovers_faces_the_generator_made_and_leaves_both_models_alone(models):
    generator, discriminator = models
    true_codes = np.random.default_rng(0).uniform(-0.9, 0.9, (3, 100)).astype(np.float32)
    faces = generator.predict(true_codes, verbose=0)
    generator_before, discriminator_before = weights_of(generator), weights_of(discriminator)

    result = project(generator, discriminator, faces, steps=150, perceptual_weight=0.0, restarts=2)

    assert result.codes.shape == (3, 100) and result.reconstructions.shape == faces.shape
    assert np.all(np.abs(result.codes) <= 1.0), "z stays in the prior's cube"
    assert np.all(result.errors < 1.0), f"mean pixel error {result.errors} levels of 255"
    assert np.allclose(result.errors, 127.5 * np.abs(result.reconstructions - faces).mean(axis=(1, 2, 3)),
                       atol=1e-3)
    for before, after in zip(generator_before + discriminator_before,
                             weights_of(generator) + weights_of(discriminator)):
        assert np.array_equal(before, after)
    assert generator.trainable and discriminator.trainable, "projection puts `trainable` back"


def test_pixels_with_zero_weight_do_not_count(models):
    generator, discriminator = models
    face = generator.predict(np.full((1, 100), 0.3, np.float32), verbose=0)
    weights = np.ones((1, 32, 32, 1), np.float32)
    weights[:, 8:24, 8:24] = 0.0
    spoiled = face.copy()
    spoiled[:, 8:24, 8:24] = 1.0  # a white square where the weights are zero

    result = project(generator, discriminator, spoiled, weights, steps=150, perceptual_weight=0.0, restarts=2)

    assert result.errors[0] < 1.0
    hole_error = 127.5 * np.abs(result.reconstructions - face)[:, 8:24, 8:24].mean()
    assert hole_error < 5.0, "the hole is filled with what the generator would draw there, not with white"


def test_losses_are_summed_per_face_not_averaged_over_the_batch():
    rng = np.random.default_rng(0)
    faces_and_weights = np.concatenate([rng.uniform(-1, 1, (4, 8, 8, 3)), np.ones((4, 8, 8, 1))], -1)
    images = rng.uniform(-1, 1, (4, 8, 8, 3))
    scores = rng.uniform(0.1, 0.9, (4, 1))
    summed = _SummedOverFaces(contextual_loss)
    one_by_one = sum(float(summed(faces_and_weights[i:i + 1], images[i:i + 1])) for i in range(4))
    assert float(summed(faces_and_weights, images)) == pytest.approx(one_by_one, rel=1e-5)
    assert one_by_one == pytest.approx(np.abs(faces_and_weights[..., :3] - images).sum(), rel=1e-5)
    perceptual = float(_SummedOverFaces(perceptual_loss)(np.zeros_like(scores), scores))
    assert perceptual == pytest.approx(np.log(1 - scores).sum(), rel=1e-5)


def conditional_pair():
    """G(z, c) and D(x, c) as the aging issue builds them: Sequential trunks inside functional wrappers."""
    keras.utils.set_random_seed(4)
    noise, condition = keras.Input((100,)), keras.Input((1,))
    trunk = build_generator(**TINY, noise_dim=101)
    generator = keras.Model([noise, condition], trunk(keras.layers.Concatenate()([noise, condition])))
    image = keras.Input((32, 32, 3))
    features = keras.layers.Flatten()(build_discriminator(**TINY)(image))
    score = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()([features, condition]))
    return generator, keras.Model([image, condition], score)


def test_projects_through_a_conditional_generator_with_the_condition_held_fixed():
    generator, discriminator = conditional_pair()
    conditions = np.array([[-0.5], [0.8]], np.float32)
    true_codes = np.random.default_rng(1).uniform(-0.9, 0.9, (2, 100)).astype(np.float32)
    faces = generator.predict([true_codes, conditions], verbose=0)
    result = project(generator, discriminator, faces, conditions=conditions, steps=150, perceptual_weight=0.01,
                     restarts=2)
    assert np.all(result.errors < 1.0), result.errors
    assert np.allclose(result.reconstructions, generator.predict([result.codes, conditions], verbose=0), atol=1e-5)


def test_refines_through_a_conditional_generator_with_the_condition_held_fixed():
    generator, discriminator = conditional_pair()
    conditions = np.array([[-0.5], [0.8]], np.float32)
    rows = np.linspace(-0.6, 0.6, 32, dtype=np.float32)[None, :, None, None]
    faces = np.concatenate([np.broadcast_to(rows, (1, 32, 32, 3)), np.broadcast_to(-rows, (1, 32, 32, 3))])
    alone = project(generator, discriminator, faces, conditions=conditions, steps=5, perceptual_weight=0.01)
    before = weights_of(generator) + weights_of(discriminator)

    refined = project(generator, discriminator, faces, conditions=conditions, steps=5, perceptual_weight=0.01,
                      refine_steps=20)

    assert np.array_equal(refined.codes, alone.codes)
    assert np.all(refined.errors < alone.errors), (refined.errors, alone.errors)
    _head, tail = split_at_feature_map(generator)
    assert np.allclose(tail.predict(refined.features, verbose=0), refined.reconstructions, atol=1e-5)
    assert all(np.array_equal(b, a) for b, a in zip(before, weights_of(generator) + weights_of(discriminator)))


def linear_pair_with_its_inverse():
    """G(z) = A z (no tanh) and an encoder that is A's pseudo-inverse, so that E(G(z)) = z exactly."""
    keras.utils.set_random_seed(5)
    matrix = np.random.default_rng(5).normal(0, 0.05, (100, 32 * 32 * 3)).astype(np.float32)
    noise = keras.Input((100,))
    generator = keras.Model(noise, keras.layers.Reshape((32, 32, 3))(
        keras.layers.Dense(32 * 32 * 3, use_bias=False, kernel_initializer=keras.initializers.Constant(matrix))(
            noise)))
    image = keras.Input((32, 32, 3))
    inverse = keras.initializers.Constant(np.linalg.pinv(matrix))
    encoder = keras.Model(image, keras.layers.Dense(100, use_bias=False, kernel_initializer=inverse)(
        keras.layers.Flatten()(image)))
    return generator, encoder


def test_an_encoder_starts_the_search_and_then_few_steps_from_one_start_are_the_default(models):
    generator, encoder = linear_pair_with_its_inverse()
    _unused, discriminator = models
    true_codes = np.random.default_rng(2).uniform(-0.9, 0.9, (3, 100)).astype(np.float32)
    faces = generator.predict(true_codes, verbose=0)
    guessed = project(generator, discriminator, faces, encoder=encoder, steps=0, perceptual_weight=0.0)
    assert np.allclose(guessed.codes, true_codes, atol=1e-3) and np.all(guessed.errors < 0.1)
    counted = []
    refined = project(generator, discriminator, faces, encoder=encoder, perceptual_weight=0.0,
                      progress=lambda done, total: counted.append(total))
    assert counted == [STEPS_FROM_ENCODER] * STEPS_FROM_ENCODER and RESTARTS_FROM_ENCODER == 1
    assert np.all(refined.errors < 1.0)
    random_start = project(generator, discriminator, faces, steps=STEPS_FROM_ENCODER, restarts=1,
                           perceptual_weight=0.0)
    assert np.all(random_start.errors > 3 * refined.errors), "the guess, not the steps, finds the face"


def test_the_encoder_sees_the_mean_known_colour_in_a_hole():
    _generator, encoder = linear_pair_with_its_inverse()
    rng = np.random.default_rng(3)
    faces = np.repeat(rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32), 2, axis=0)
    faces[1, 8:24, 8:24] = 1.0  # the same face with something else in the hole
    known = np.ones((2, 32, 32, 1), np.float32)
    known[:, 8:24, 8:24] = 0.0
    first, second = encoder_guess(encoder, faces, known)
    assert np.allclose(first, second, atol=1e-5)
    filled = faces[:1].copy()
    filled[:, 8:24, 8:24] = faces[0][known[0, ..., 0] > 0].mean(axis=0)
    assert np.allclose(first, np.clip(encoder.predict(filled, verbose=0)[0], -1, 1), atol=1e-5)


def test_refining_the_feature_map_lowers_the_error_keeps_z_and_leaves_both_models_alone(models):
    generator, discriminator = models
    rows = np.linspace(-0.6, 0.6, 32, dtype=np.float32)[None, :, None, None]
    faces = np.concatenate([np.broadcast_to(rows, (1, 32, 32, 3)), np.broadcast_to(-rows, (1, 32, 32, 3))])
    alone = project(generator, discriminator, faces, steps=5, perceptual_weight=0.0)
    before = weights_of(generator) + weights_of(discriminator)

    refined = project(generator, discriminator, faces, steps=5, perceptual_weight=0.0, refine_steps=20)

    assert np.array_equal(refined.codes, alone.codes) and alone.features is None
    assert np.all(refined.errors < alone.errors), (refined.errors, alone.errors)  # an untrained G moves little
    assert refined.features.shape == (2, 4, 4, generator.layers[3].output.shape[-1])
    assert np.all(refined.features >= 0), "the map stays what a ReLU can give"
    _head, tail = split_at_feature_map(generator)
    assert np.allclose(tail.predict(refined.features, verbose=0), refined.reconstructions, atol=1e-5)
    assert all(np.array_equal(b, a) for b, a in zip(before, weights_of(generator) + weights_of(discriminator)))
    assert generator.trainable and discriminator.trainable
