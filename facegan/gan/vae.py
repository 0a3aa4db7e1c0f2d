"""The convolutional VAE that the face-math issue compares GAN projection with.

Same halves as the GAN, so that the comparison is about the method, not the network: the encoder is the
discriminator's trunk with a (mean, log variance) head, the decoder is the DCGAN generator itself. The prior is
N(0, 1) (the GAN's is U(-1, 1)). The loss per face is the negative evidence lower bound with a Gaussian
decoder of fixed standard deviation DECODER_SIGMA on the [-1, 1] pixel scale:
    sum over pixels (x - decoded)^2 / (2 sigma^2)  +  KL(q(z | x) || N(0, 1)),
averaged over the batch. Everything is Keras and `keras.ops`, so it trains on any backend.
"""
import keras
import numpy as np
from keras import ops

from facegan.gan.config import BETA_1, LEARNING_RATE
from facegan.gan.prior import noise_dim

DECODER_SIGMA = 0.1  # ~13 grey levels: small enough for detail, large enough that KL still shapes z


class _SampleCode(keras.layers.Layer):
    """Reparameterisation: z = mean + exp(log_var / 2) * noise while training, the mean otherwise; adds the KL
    term to the model's losses."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, statistics, training=None):
        mean, log_variance = ops.split(statistics, 2, axis=-1)
        log_variance = ops.clip(log_variance, -20.0, 10.0)
        divergence = 0.5 * ops.sum(ops.exp(log_variance) + ops.square(mean) - 1.0 - log_variance, axis=-1)
        self.add_loss(ops.mean(divergence))
        if not training:
            return mean
        return mean + ops.exp(0.5 * log_variance) * keras.random.normal(ops.shape(mean), seed=self.seed_generator)


def reconstruction_loss(images, decoded):
    """Per face: squared error over pixels, scaled by the decoder's fixed variance."""
    images = ops.convert_to_tensor(images, decoded.dtype)  # numpy, as a metric's target on the torch backend
    return ops.sum(ops.square(images - decoded), axis=(1, 2, 3)) / (2 * DECODER_SIGMA ** 2)


class VAE:
    """Encoder and decoder trained together on the ELBO; `train_step` is one batch. Named like DCGAN's parts
    (`generator`, `models`, `optimizers`, `noise`) so that training, checkpoints and generate.py take either."""

    def __init__(self, generator, encoder, learning_rate=LEARNING_RATE, beta_1=BETA_1, seed=None):
        self.generator, self.encoder = generator, encoder
        self.noise_dim = noise_dim(generator)
        images = keras.Input(generator.output_shape[1:], name="image")
        decoded = generator(_SampleCode(seed, name="sample_code")(encoder(images)))
        self.autoencoder = keras.Model(images, decoded, name="vae")
        self.autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
                                 loss=reconstruction_loss, metrics=[reconstruction_loss])

    @property
    def models(self):
        return {"generator": self.generator, "encoder": self.encoder}

    @property
    def optimizers(self):
        return {"autoencoder": (self.autoencoder.optimizer, self.autoencoder.trainable_weights)}

    def noise(self, rng, count):
        return rng.standard_normal((count, self.noise_dim)).astype(np.float32)

    def train_step(self, real_batch, rng):
        result = self.autoencoder.train_on_batch(real_batch, real_batch, return_dict=True)
        reconstruction = float(result["reconstruction_loss"])
        return {"loss": float(result["loss"]), "reconstruction": reconstruction,
                "kl": float(result["loss"]) - reconstruction}

    def encode(self, images):
        """The code of each face: the mean of q(z | x), in one forward pass."""
        statistics = self.encoder.predict(np.asarray(images, np.float32), verbose=0, batch_size=64)
        return statistics[:, :self.noise_dim]
