"""DiffAugment's three changes, checked against what they must do to each image."""
import keras
import numpy as np
import pytest

from facegan.gan.augment import ADAPTATION_IMAGES, DiffAugment, discriminator_views


@pytest.fixture
def images():
    return np.random.default_rng(0).uniform(-1, 1, (6, 16, 16, 3)).astype(np.float32)


def augmented(policy, images):
    return keras.ops.convert_to_numpy(DiffAugment(policy, seed=3)(images, training=True))


def test_outside_training_nothing_changes(images):
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(DiffAugment(seed=3)(images)), images)


def test_translation_shifts_each_image_by_up_to_an_eighth_with_zeros_coming_in(images):
    shifted = augmented(("translation",), images)
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    shifts = set()
    for index in range(len(images)):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(padded[index, 2 + dy:18 + dy, 2 + dx:18 + dx], shifted[index])]
        assert len(matches) == 1, f"image {index} is not a shifted copy"
        shifts.add(matches[0])
    assert len(shifts) > 1, "each image draws its own shift"


def test_cutout_zeroes_one_square_of_half_the_side(images):
    cut = augmented(("cutout",), images)
    for original, result in zip(images, cut):
        zeroed = np.all(result == 0, axis=-1)
        rows, columns = np.nonzero(zeroed)
        assert 0 < zeroed.sum() <= 64 and zeroed.sum() == (np.ptp(rows) + 1) * (np.ptp(columns) + 1)
        np.testing.assert_array_equal(result[~zeroed], original[~zeroed])


def test_color_moves_brightness_and_scales_contrast_of_each_image(images):
    """On a grey image saturation has nothing to change, so colour must be x -> c x + b with one contrast
    factor c in [0.5, 1.5] and one brightness shift per image."""
    grey = np.repeat(images[..., :1], 3, axis=-1)
    coloured = augmented(("color",), grey)
    slopes = []
    for original, result in zip(grey, coloured):
        slope, intercept = np.polyfit(original.ravel(), result.ravel(), 1)
        np.testing.assert_allclose(result, slope * original + intercept, atol=1e-5)
        slopes.append(slope)
    assert all(0.5 <= slope <= 1.5 for slope in slopes) and np.ptp(slopes) > 0.05


def test_g_learns_through_the_augmentation():
    images = keras.Variable(np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32))
    layer = DiffAugment(seed=3)
    import tensorflow as tf  # the suite's backend; the layer itself is keras.ops only

    with tf.GradientTape() as tape:
        total = keras.ops.sum(layer(images, training=True) * 1.0)
    gradient = tape.gradient(total, images.value)
    assert gradient is not None and np.count_nonzero(keras.ops.convert_to_numpy(gradient)) > 0


def test_views_are_off_by_default_and_unknown_policies_refused():
    assert discriminator_views() == []
    assert [view.name for view in discriminator_views(("color",), 0.1)] == ["diffaugment", "instance_noise"]
    with pytest.raises(ValueError, match="choose among"):
        DiffAugment(("zoom",))


def test_adaptive_augmentation_changes_each_image_with_probability_p(images):
    layer = DiffAugment(("cutout",), seed=3, target=0.6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(images, training=True)), images)  # p starts at 0
    layer.probability.assign(1.0)
    cut = keras.ops.convert_to_numpy(layer(np.ones((200, 16, 16, 3), np.float32), training=True))
    assert (cut == 0).any(axis=(1, 2, 3)).all()
    layer.probability.assign(0.5)
    cut = keras.ops.convert_to_numpy(layer(np.ones((200, 16, 16, 3), np.float32), training=True))
    assert 0.35 < (cut == 0).any(axis=(1, 2, 3)).mean() < 0.65


def test_adapt_moves_p_by_the_images_seen_toward_the_target_and_stays_in_0_1():
    layer = DiffAugment(target=0.6)
    layer.adapt(0.9, 64)  # D calls too many reals real: more augmentation
    assert float(layer.probability.numpy()) == pytest.approx(64 / ADAPTATION_IMAGES)
    layer.adapt(0.2, 64)
    layer.adapt(0.2, 64)  # below the target: less, but never under 0
    assert float(layer.probability.numpy()) == 0.0
    with pytest.raises(ValueError, match="target"):
        DiffAugment(target=1.5)
    with pytest.raises(ValueError, match="needs a DiffAugment policy"):
        discriminator_views((), ada_target=0.6)
