"""The latent encoder E: a face's z in one forward pass, the first guess that projection then refines (Age-cGAN's
latent approximation). E is trained on fresh pairs (G(z), z) drawn from the generator it serves, plain or
age-conditional (then (G(z, c), z), c drawn over the age groups), and lives beside that generator's run as
`latent_encoder.h5` (a plain Keras model; facegan.io.model_folder finds and loads it).
"""
import keras
import numpy as np

from facegan.gan.models import build_encoder, is_conditional
from facegan.gan.prior import draw, noise_dim, random_age_conditions, sample_noise
from facegan.latent.defaults import ENCODER_BATCH, ENCODER_FILTERS, ENCODER_STEPS


def train_latent_encoder(generator, filters=ENCODER_FILTERS, steps=ENCODER_STEPS, batch_size=ENCODER_BATCH, seed=0,
                         learning_rate=2e-4, progress=None):
    """E(G(z)) ~ z, by mean squared error on fresh (G(z), z) pairs each step, so E never sees a face twice; for
    a conditional G the age group is drawn uniformly over the groups, so that every age is covered. Returns E
    and the loss of each step."""
    dim, image_size = noise_dim(generator), generator.output_shape[1]
    keras.utils.set_random_seed(seed)
    encoder = build_encoder(image_size, filters, outputs=dim, name="latent_encoder")
    encoder.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5), loss="mean_squared_error")
    rng = np.random.default_rng(seed)
    conditional = is_conditional(generator)
    losses = []
    for step in range(steps):
        codes = sample_noise(rng, batch_size, dim)
        images = draw(generator, codes, random_age_conditions(rng, batch_size) if conditional else None)
        losses.append(float(encoder.train_on_batch(images, codes)))
        if progress:
            progress(step + 1, steps)
    return encoder, losses
