"""The noise prior and the age conditions: what every command draws G's inputs from."""
import numpy as np
import pytest

from facegan.gan import prior


def test_noise_is_uniform_on_the_cube_and_the_seed_fixes_it():
    noise = prior.sample_noise(np.random.default_rng(3), 5000)
    assert noise.shape == (5000, prior.NOISE_DIM) and noise.dtype == np.float32
    assert -1 <= noise.min() < -0.99 and 0.99 < noise.max() <= 1 and abs(noise.mean()) < 0.01
    np.testing.assert_array_equal(prior.sample_noise(np.random.default_rng(3), 5000, 100), noise)


@pytest.mark.parametrize("age, group", [(0, 0), (12, 0), (13, 1), (29.4, 2), (55, 5), (65, 5), (66, 6), (120, 6)])
def test_ages_fall_into_their_groups(age, group):
    assert prior.age_conditions([age]).tolist() == [np.eye(len(prior.AGE_GROUPS))[group].tolist()]


def test_an_age_outside_0_to_120_has_no_group():
    with pytest.raises(ValueError, match="outside 0-120"):
        prior.age_group(121)


def test_an_age_sweep_runs_each_z_through_every_group_youngest_first():
    noise = prior.sample_noise(np.random.default_rng(0), 3)
    repeated, conditions, columns = prior.age_sweep(noise)
    assert columns == len(prior.AGE_GROUPS) and repeated.shape == (3 * columns, prior.NOISE_DIM)
    np.testing.assert_array_equal(repeated[columns:2 * columns], np.repeat(noise[1:2], columns, axis=0))
    assert conditions.argmax(axis=1).tolist() == list(range(columns)) * 3


def test_random_ages_and_groups_cover_their_ranges():
    rng = np.random.default_rng(0)
    ages = prior.random_ages(rng, 5000)
    assert ages.min() == 0 and ages.max() == prior.OLDEST
    groups = prior.random_age_conditions(rng, 700).argmax(axis=1)
    assert np.bincount(groups).min() > 60, "uniform over the groups, not over years"


def test_neighbours_lie_near_their_code_inside_the_cube_whatever_the_batch():
    codes = prior.sample_noise(np.random.default_rng(0), 3)
    codes[0], codes[1] = 0.95, 0.0  # near the cube's corner, where a move could leave it; at its centre
    nearby = prior.neighbours(codes, 200, 0.3)
    assert nearby.shape == (200, 3, prior.NOISE_DIM) and nearby.dtype == np.float32
    assert -1 <= nearby.min() and nearby.max() <= 1
    assert 0.25 < np.std(nearby[:, 1] - codes[1]) < 0.35 and np.abs(nearby[:, 1].mean(axis=0)).max() < 0.1
    np.testing.assert_array_equal(prior.neighbours(codes[1:2], 200, 0.3)[:, 0], nearby[:, 1])


def test_predicted_in_batches_is_what_predict_gives():
    import keras

    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))
    hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Dense(12, activation="tanh")(hidden))
    codes = prior.sample_noise(np.random.default_rng(1), 150)
    conditions = prior.age_conditions(np.random.default_rng(2).integers(0, 121, 150))
    by_predict = generator.predict([codes, conditions], verbose=0, batch_size=prior.DRAW_BATCH)
    drawn = prior.draw(generator, codes, conditions)  # 64, 64 and 22
    assert drawn.shape == (150, 12)
    np.testing.assert_allclose(drawn, by_predict, rtol=1e-6, atol=1e-6)
    plain = keras.Sequential([keras.Input((100,)), keras.layers.Dense(5)])
    np.testing.assert_allclose(prior.predicted(plain, codes, 40), plain.predict(codes, verbose=0), rtol=1e-6,
                               atol=1e-6)
