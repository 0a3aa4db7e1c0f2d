"""The aging algorithm: the strength and detail of aging."""
import numpy as np

from facegan.aging import algorithm, defaults, flow
from facegan.aging.models import AgingModels


def test_the_photo_gets_what_aging_changes_averaged_over_nearby_codes():
    import keras

    from facegan.gan.prior import age_conditions, draw, neighbours

    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))
    pixels = keras.layers.Dense(8 * 8 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Reshape((8, 8, 3))(pixels))
    rng = np.random.default_rng(0)
    faces, codes = rng.uniform(-0.5, 0.5, (2, 8, 8, 3)), rng.uniform(-1, 1, (2, 100)).astype(np.float32)
    source_ages = np.array([20.0, 30.0])
    source, target = age_conditions(source_ages), age_conditions(np.full(2, 60))

    models = AgingModels(generator, None, None)

    def change_at(z):
        return draw(generator, z, source + 1.5 * (target - source)) - draw(generator, z, source)

    at_z = algorithm.aging_change(models, codes, source_ages, 60, 1.5, samples=0)
    np.testing.assert_allclose(at_z, change_at(codes), atol=1e-5)
    averaged = algorithm.aging_change(models, codes, source_ages, 60, 1.5, samples=4)
    nearby = neighbours(codes, 4, algorithm.CHANGE_SPREAD)
    np.testing.assert_allclose(averaged, np.mean([change_at(z) for z in nearby], axis=0), atol=1e-5)
    assert np.abs(averaged - at_z).mean() > 1e-3, "the neighbours' average is not the change at z"
    aged = algorithm.at_age(models, faces, codes, source_ages, 60, 1.5, samples=4)
    moved = flow.onto_photos(averaged, faces, draw(generator, codes, source))  # onto the photo's features
    np.testing.assert_allclose(aged, np.clip(faces + moved, -1, 1), atol=1e-5)
    np.testing.assert_array_equal(algorithm.at_age(models, faces, codes, source_ages, 20, 1.5, samples=4)[0], faces[0])


def test_strength_scales_the_step_of_the_age_condition_and_the_photo_keeps_its_details_by_default():
    import keras

    from facegan.gan.models import build_conditional_discriminator, build_encoder
    from facegan.gan.prior import age_conditions, draw

    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))  # a toy G on which the age shows plainly
    pixels = keras.layers.Dense(32 * 32 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Reshape((32, 32, 3))(pixels))
    discriminator = build_conditional_discriminator(32, 4)
    models = AgingModels(generator, discriminator, build_encoder(32, 4, outputs=100))
    faces = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    source_ages = np.array([20.0, 25.0, 33.0])
    source, target = age_conditions(source_ages), age_conditions(np.full(3, 60))

    def at(strength, codes):
        return draw(generator, codes, source + strength * (target - source))

    results = {strength: algorithm.age(models, faces, source_ages, 60, strength, regenerate=True, steps=1)
               for strength in (0.0, 1.0, 2.0, None)}
    reconstructions, unchanged, _codes = results[0.0]
    np.testing.assert_allclose(unchanged, reconstructions, atol=1e-5)
    for strength, (_reconstructions, aged, codes) in results.items():
        expected = defaults.REGENERATED_STRENGTH if strength is None else strength
        np.testing.assert_allclose(aged, at(expected, codes), atol=1e-5)
    assert np.abs(results[2.0][1] - results[1.0][1]).mean() > 0.01, "2 goes past the target group"
    _reconstructions, aged, codes = algorithm.age(models, faces, source_ages, 60, steps=1)
    change = algorithm.aging_change(models, codes, source_ages, 60, defaults.PHOTO_STRENGTH)
    moved = flow.onto_photos(change, faces, draw(generator, codes, source))
    np.testing.assert_allclose(aged, np.clip(faces + moved, -1, 1), atol=1e-5)
    assert np.abs(aged - at(defaults.PHOTO_STRENGTH, codes)).mean() > 0.1, "the photo, not G's face"
