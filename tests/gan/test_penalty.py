"""Lazy R1: the penalty is the squared input gradient of D's logit, checked against numpy finite differences, and
its update lowers it."""
import keras
import numpy as np
import pytest

from facegan.gan.models import build_conditional_discriminator, build_discriminator
from facegan.gan.penalty import R1, logit_function

from tests.conftest import TINY


def tiny_discriminator():
    """A D of 2x2 images small enough for finite differences, ending in a sigmoid as the DCGAN's D does."""
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="binary_crossentropy")
    return model


def numpy_logits(model, images):
    """The same D in float64 numpy, sigmoid left off."""
    hidden_kernel, hidden_bias, kernel, bias = (np.float64(weight) for weight in model.get_weights())
    return (np.tanh(images.reshape(len(images), -1) @ hidden_kernel + hidden_bias) @ kernel + bias)[:, 0]


@pytest.fixture
def images():
    return np.random.default_rng(0).uniform(-1, 1, (4, 2, 2, 3)).astype(np.float32)


def test_the_logit_is_ds_score_before_its_sigmoid(images):
    model = tiny_discriminator()
    logits = keras.ops.convert_to_numpy(logit_function(model)(keras.ops.convert_to_tensor(images)))[:, 0]
    np.testing.assert_allclose(logits, numpy_logits(model, images), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), model.predict(images, verbose=0)[:, 0], rtol=1e-5)


def test_the_penalty_is_the_mean_squared_input_gradient_by_finite_differences(images):
    model = tiny_discriminator()
    step, squared_norms = 1e-5, np.zeros(len(images))
    for pixel in np.ndindex(images.shape[1:]):
        shift = np.zeros(images.shape[1:])
        shift[pixel] = step
        slope = (numpy_logits(model, images + shift) - numpy_logits(model, images - shift)) / (2 * step)
        squared_norms += slope**2
    assert squared_norms.mean() > 1e-3, "a penalty worth checking"
    assert R1(model, gamma=1.0).penalty(images) == pytest.approx(squared_norms.mean(), rel=1e-4)


def r1_update(gamma, interval, images):
    """The weights of the tiny D (plain SGD) before and after one R1 update, and the penalty before and after."""
    model = tiny_discriminator()
    r1 = R1(model, gamma, interval)
    model.optimizer.build(model.trainable_variables)
    before, penalty = model.get_weights(), r1.penalty(images)
    r1.step(images)
    return before, model.get_weights(), penalty, r1.penalty(images)


def test_the_r1_update_lowers_the_penalty_on_the_reals(images):
    before, after, penalty, new_penalty = r1_update(1.0, 4, images)
    assert new_penalty < 0.9 * penalty
    *moved, last_bias = [not np.array_equal(old, new) for old, new in zip(before, after)]
    assert all(moved) and not last_bias, "the logit's slope does not depend on its final bias"


def test_the_r1_update_is_weighted_by_gamma_over_2_times_the_interval(images):
    before, lazy, _, _ = r1_update(0.5, 4, images)
    _, every_step, _, _ = r1_update(1.0, 1, images)  # 0.5 / 2 * 4 = 2 * (1.0 / 2 * 1)
    for old, new, reference in zip(before, lazy, every_step):
        np.testing.assert_allclose(new - old, 2 * (reference - old), rtol=1e-4, atol=1e-7)


def test_the_conditional_d_is_penalised_at_its_projection_logit():
    keras.utils.set_random_seed(1)
    model = build_conditional_discriminator(**TINY)
    inputs = [np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32), np.eye(7)[[1, 5]]]
    logits = keras.ops.convert_to_numpy(logit_function(model)([keras.ops.convert_to_tensor(part) for part in inputs]))
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), model.predict(inputs, verbose=0), rtol=1e-5)


def test_a_d_without_a_final_sigmoid_is_refused():
    model = build_discriminator(**TINY)
    model.layers[-1].activation = keras.activations.linear
    with pytest.raises(ValueError, match="sigmoid"):
        logit_function(model)
