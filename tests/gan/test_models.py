import keras
import numpy as np
import pytest

from facegan.gan.models import build_conditional_generator, build_discriminator, build_generator, split_at_feature_map
from facegan.gan.prior import NOISE_DIM


@pytest.mark.parametrize("image_size, stride_layers", [(32, 3), (64, 4), (128, 5)])
def test_the_number_of_stride_2_layers_follows_the_image_size(image_size, stride_layers):
    generator = build_generator(image_size, filters=2)
    discriminator = build_discriminator(image_size, filters=2)
    assert generator.output_shape == (None, image_size, image_size, 3)
    assert discriminator.output_shape == (None, 1)
    assert sum(isinstance(layer, keras.layers.Conv2DTranspose) for layer in generator.layers) == stride_layers
    assert sum(isinstance(layer, keras.layers.Conv2D) for layer in discriminator.layers) == stride_layers


def test_the_64x64_models_have_the_papers_layers():
    generator, discriminator = build_generator(64), build_discriminator(64)
    assert isinstance(generator, keras.Sequential) and isinstance(discriminator, keras.Sequential)
    assert generator.input_shape == (None, NOISE_DIM)
    assert generator.layers[0].units == 4 * 4 * 512
    deconvolutions = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [layer.filters for layer in deconvolutions] == [256, 128, 64, 3]
    convolutions = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in convolutions] == [64, 128, 256, 512]
    for layer in deconvolutions + convolutions:
        assert layer.kernel_size == (5, 5) and layer.strides == (2, 2)
    assert deconvolutions[-1].activation.__name__ == "tanh"
    assert discriminator.layers[-1].activation.__name__ == "sigmoid"
    # BN after every generator layer but the last; in D after every convolution but the first.
    kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert kinds[:2] == ["Conv2D", "LeakyReLU"] and kinds.count("BatchNormalization") == 3
    assert all(layer.negative_slope == pytest.approx(0.2) for layer in discriminator.layers
               if isinstance(layer, keras.layers.LeakyReLU))
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in generator.layers) == 4


def test_weights_start_from_normal_0_002():
    keras.utils.set_random_seed(0)
    kernel = build_discriminator(64).layers[2].kernel.numpy()  # 5x5x64x128 Conv2D
    assert abs(kernel.mean()) < 1e-3
    assert kernel.std() == pytest.approx(0.02, rel=0.05)


def test_the_same_seed_builds_the_same_weights():
    keras.utils.set_random_seed(3)
    first = build_generator(32, filters=4).get_weights()
    keras.utils.set_random_seed(3)
    second = build_generator(32, filters=4).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_generated_images_are_in_the_tanh_range():
    images = build_generator(32, filters=4).predict(np.random.uniform(-1, 1, (5, NOISE_DIM)), verbose=0)
    assert images.shape == (5, 32, 32, 3)
    assert images.min() >= -1 and images.max() <= 1


def test_an_unsupported_image_size_is_refused():
    with pytest.raises(ValueError, match="48"):
        build_generator(48)


def test_the_split_generator_is_the_generator():
    generator = build_generator(32, filters=4)
    codes = np.random.default_rng(2).uniform(-1, 1, (3, 100)).astype(np.float32)
    head, tail = split_at_feature_map(generator)
    assert np.allclose(tail.predict(head.predict(codes, verbose=0), verbose=0), generator.predict(codes, verbose=0),
                       atol=1e-5)


def test_the_split_conditional_generator_is_the_generator():
    generator = build_conditional_generator(32, filters=4)
    codes = np.random.default_rng(2).uniform(-1, 1, (3, 100)).astype(np.float32)
    conditions = np.eye(7, dtype=np.float32)[[0, 3, 6]]
    head, tail = split_at_feature_map(generator)
    feature_maps = head.predict([codes, conditions], verbose=0)
    assert np.allclose(tail.predict(feature_maps, verbose=0), generator.predict([codes, conditions], verbose=0),
                       atol=1e-5)
    other_ages = head.predict([codes, conditions[::-1]], verbose=0)
    assert not np.allclose(other_ages[[0, 2]], feature_maps[[0, 2]]), "the age reaches the map"
