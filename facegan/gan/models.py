"""The DCGAN generator and discriminator of Radford et al. (2015), as plain `keras.Sequential` models.

Only stock Keras layers and initializers are used, so a saved `generator.h5` loads with a bare
`keras.models.load_model` and no custom objects.
"""
import math

import keras
from keras import layers

from facegan.gan.prior import AGE_GROUPS, NOISE_DIM

SUPPORTED_IMAGE_SIZES = (32, 64, 128)


# Radford et al.: every weight from N(0, 0.02), the BN scale from N(1, 0.02). The initializers are left
# unseeded (a fixed seed would give equal-shaped layers equal weights); `keras.utils.set_random_seed` makes
# the draw reproducible.
def _weights():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _batch_norm():
    # momentum 0.9, epsilon 1e-5 as the reference TensorFlow DCGAN: the moving averages that a frozen D uses in
    # the G step (see recipe.py) then follow D's batches within ~10 steps instead of ~100.
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                     gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02))


def number_of_blocks(image_size):
    """Stride-2 layers between 4x4 and the image: 4 for 64x64, one more per doubling."""
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(f"image size {image_size} is not supported; choose one of {SUPPORTED_IMAGE_SIZES}")
    return int(math.log2(image_size)) - 2


def build_generator(image_size=64, filters=64, noise_dim=NOISE_DIM):
    """uniform(-1, 1) noise -> tanh image; 64x64 uses 512-256-128-64 channels as in the paper."""
    blocks = number_of_blocks(image_size)
    top_filters = filters * 2 ** (blocks - 1)
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(noise_dim,), name="noise"))
    model.add(layers.Dense(4 * 4 * top_filters, use_bias=False, kernel_initializer=_weights()))
    model.add(_batch_norm())
    model.add(layers.ReLU())
    model.add(layers.Reshape((4, 4, top_filters)))
    for block in range(1, blocks):
        model.add(layers.Conv2DTranspose(top_filters // 2**block, 5, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=_weights()))
        model.add(_batch_norm())
        model.add(layers.ReLU())
    model.add(layers.Conv2DTranspose(3, 5, strides=2, padding="same", activation="tanh",
                                     kernel_initializer=_weights()))
    return model


def _add_downsampling(model, image_size, filters, channels=3):
    """The discriminator's trunk: stride-2 5x5 convolutions, 64-128-256-512 channels at 64x64."""
    model.add(keras.Input(shape=(image_size, image_size, channels), name="image"))
    for block in range(number_of_blocks(image_size)):
        model.add(layers.Conv2D(filters * 2**block, 5, strides=2, padding="same", use_bias=block == 0,
                                kernel_initializer=_weights()))
        if block > 0:
            model.add(_batch_norm())
        model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(layers.Flatten())
    return model


def build_discriminator(image_size=64, filters=64, channels=3):
    """image in [-1, 1] -> probability that it is real; no BN on the first layer, as in the paper."""
    model = _add_downsampling(keras.Sequential(name="discriminator"), image_size, filters, channels)
    # float32 output, so that under --precision bf16 the loss sees probabilities, not 8-bit-mantissa roundings
    model.add(layers.Dense(1, activation="sigmoid", kernel_initializer=_weights(), dtype="float32"))
    return model


def build_encoder(image_size=64, filters=64, outputs=2 * NOISE_DIM, name="encoder"):
    """image -> numbers about its code: the discriminator's trunk with a linear head. The VAE's encoder gives
    (mean, log variance), so that the VAE compared with the GAN has the same two halves; the aging encoder
    gives z itself (Age-cGAN's latent approximation)."""
    model = _add_downsampling(keras.Sequential(name=name), image_size, filters)
    model.add(layers.Dense(outputs, kernel_initializer=_weights()))
    return model


def build_conditional_generator(image_size=64, filters=64, noise_dim=NOISE_DIM, conditions=len(AGE_GROUPS)):
    """G(z, age group): the DCGAN generator fed z and the one-hot group side by side. Inputs, in this order:
    `noise` (n, 100) uniform(-1, 1) and `age_group` (n, 7) one-hot; stock layers only, so the .h5 loads with
    plain `keras.models.load_model`."""
    noise = keras.Input(shape=(noise_dim,), name="noise")
    condition = keras.Input(shape=(conditions,), name="age_group")
    trunk = build_generator(image_size, filters, noise_dim + conditions)
    return keras.Model([noise, condition], trunk(layers.Concatenate()([noise, condition])),
                       name="conditional_generator")


def build_conditional_discriminator(image_size=64, filters=64, conditions=len(AGE_GROUPS)):
    """D(x, age group) as a projection discriminator (Miyato and Koyama, 2018): the DCGAN trunk's features f,
    then sigmoid(w.f + b + e_c.f), where e_c is a learnt vector per age group. The age acts at the top, on
    what the trunk has seen, so D judges "a real face of this age" from its first steps; plain channels of the
    one-hot group at the input (tried first) taught nothing about age in an epoch of UTKFace."""
    image = keras.Input(shape=(image_size, image_size, 3), name="image")
    condition = keras.Input(shape=(conditions,), name="age_group")
    trunk = _add_downsampling(keras.Sequential(name="discriminator_trunk"), image_size, filters)
    features = trunk(image)
    realness = layers.Dense(1, kernel_initializer=_weights(), name="realness")(features)
    age_embedding = layers.Dense(trunk.output_shape[-1], use_bias=False, kernel_initializer=_weights(),
                                 name="age_embedding")(condition)
    age_match = layers.Dot(axes=1)([age_embedding, features])
    score = layers.Activation("sigmoid", dtype="float32")(layers.Add()([realness, age_match]))
    return keras.Model([image, condition], score, name="conditional_discriminator")


def is_conditional(model):
    return len(model.inputs) == 2


def split_at_feature_map(generator):
    """(head, tail) of a generator, sharing its layers: head(z) (head([z, c]) for a conditional G(z, c), whose
    condition joins z at the input) is the 4x4 feature map that the first transposed convolution reads, tail(map)
    the image."""
    if is_conditional(generator):
        join, trunk = generator.layers[-2:]
        inputs = [keras.Input(shape=tensor.shape[1:]) for tensor in generator.inputs]
        start = join(inputs)
    else:
        trunk = generator
        inputs = start = keras.Input(shape=generator.input_shape[1:])
    cut = next(i for i, layer in enumerate(trunk.layers) if isinstance(layer, layers.Reshape)) + 1
    feature_map = keras.Input(shape=trunk.layers[cut - 1].output.shape[1:])
    return keras.Model(inputs, _through(trunk.layers[:cut], start)), \
        keras.Model(feature_map, _through(trunk.layers[cut:], feature_map))


def _through(stack, tensor):
    for layer in stack:
        tensor = layer(tensor)
    return tensor
