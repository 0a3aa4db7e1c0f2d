"""The DCGAN training step of Radford et al., exactly as documented, and the only code that touches `trainable`:
D trains on real and fake faces, then G trains through the stacked `d_on_g` with D frozen. Why it toggles
`discriminator.trainable` before each call (a Keras 3 pitfall), how batch normalisation runs in each half-step,
and the optional stabilisers: docs/recipe.md; how the steps run under a tf.distribute strategy (`replicas`):
docs/distributed.md. `tests/gan/test_recipe.py` snapshots every weight to prove it.
"""
import keras
import numpy as np

from facegan.gan import distribute
from facegan.gan.augment import discriminator_views
from facegan.gan.config import BETA_1, LEARNING_RATE, R1_INTERVAL
from facegan.gan.models import is_conditional
from facegan.gan.penalty import R1
from facegan.gan.prior import noise_dim, sample_noise

def _is_real(labels, scores):
    """1 where the label says real (1, or 0.9 with label smoothing), else 0."""
    labels = keras.ops.convert_to_tensor(labels, dtype=scores.dtype)  # numpy on the torch backend
    return keras.ops.cast(labels > 0.5, scores.dtype)


def real_score(labels, scores):
    """D(x): the mean score D gives the real images of the batch."""
    real = _is_real(labels, scores)
    return keras.ops.sum(scores * real) / keras.ops.maximum(keras.ops.sum(real), 1.0)


def real_sign(labels, scores):
    """The mean over the real images of sign(D(x) - 0.5): ADA's measure of how far D has learnt the reals."""
    real = _is_real(labels, scores)
    return keras.ops.sum(keras.ops.sign(scores - 0.5) * real) / keras.ops.maximum(keras.ops.sum(real), 1.0)


def fake_score(labels, scores):
    """D(G(z)): the mean score D gives the fakes of the batch."""
    fake = 1.0 - _is_real(labels, scores)
    return keras.ops.sum(scores * fake) / keras.ops.maximum(keras.ops.sum(fake), 1.0)


class DCGAN:
    """A generator and a discriminator, compiled for the classic recipe; `train_step` is one iteration."""

    def __init__(self, generator, discriminator, learning_rate=LEARNING_RATE, beta_1=BETA_1, real_label=1.0,
                 separate_batches=False, generator_steps=1, mismatched_ages=False, discriminator_learning_rate=None,
                 diffaugment=(), instance_noise=0.0, ada_target=0.0, r1_gamma=0.0, r1_interval=R1_INTERVAL,
                 replicas=distribute.ONE_DEVICE):
        """`replicas`: facegan.gan.distribute's, for a strategy; G and D must then have been built in its scope.
        `r1_gamma`: lazy R1 on D every `r1_interval` D steps (facegan.gan.penalty), 0 for none."""
        self.replicas = replicas
        self.real_label, self.separate_batches, self.generator_steps = real_label, separate_batches, generator_steps
        self.generator = generator
        self.discriminator = discriminator
        self.conditional = is_conditional(generator)
        if mismatched_ages and not self.conditional:
            raise ValueError("mismatched ages need the conditional pair")
        self.mismatched_ages = mismatched_ages
        self.noise_dim = noise_dim(generator)
        with replicas.scope():
            self.views = discriminator_views(diffaugment, instance_noise, ada_target=ada_target)
            self.adaptive = next((view for view in self.views if getattr(view, "probability", None) is not None),
                                 None)
            discriminator.compile(optimizer=keras.optimizers.Adam(discriminator_learning_rate or learning_rate,
                                                                  beta_1=beta_1),
                                  loss="binary_crossentropy",
                                  metrics=[real_score, fake_score] + ([real_sign] if self.adaptive else []))
            self.r1 = R1(discriminator, r1_gamma, r1_interval, replicas) if r1_gamma else None
            self.d_on_g = _stack(generator, discriminator, self.views)
            self.d_on_g.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
                                loss="binary_crossentropy")

    @property
    def models(self):
        """What a checkpoint saves, by file name."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self):
        """Each optimizer with the weights it trains, by name in the checkpoint."""
        return {"discriminator": (self.discriminator.optimizer, self.discriminator.trainable_weights),
                "generator": (self.d_on_g.optimizer, self.generator.trainable_weights)}

    def noise(self, rng, count):
        return sample_noise(rng, count, self.noise_dim)

    def generator_input(self, noise, conditions=None):
        """z, or [z, c] for the conditional pair."""
        return [noise, conditions] if self.conditional else noise

    def fakes_for_discriminator(self, noise, conditions=None):
        """G(z) as the G step computes it (BN on each replica's batch statistics), leaving G's moving averages
        untouched."""
        return self.replicas.run(self._fakes, self.generator_input(noise, conditions))

    def _fakes(self, generator_input):
        fakes, _discarded_moving_statistics = self.generator.stateless_call(
            [weight.value for weight in self.generator.trainable_weights],
            [weight.value for weight in self.generator.non_trainable_weights], generator_input, training=True)
        return keras.ops.cast(fakes, "float32")  # bfloat16 under --precision bf16

    def as_seen(self, images):
        """Images as D sees them in training: through the same views as in the stack (none by default)."""
        for view in self.views:
            images = view(images, training=True)
        return images if not self.views else keras.ops.convert_to_numpy(keras.ops.cast(images, "float32"))

    def train_discriminator(self, real_batch, rng, real_conditions=None):
        """Half-step 1: D learns real (1) from G's fakes (0), in one mixed batch (or two, `separate_batches`);
        every `r1_interval` steps, then one lazy R1 update of D on the real batch."""
        batch_size = len(real_batch)
        fake_conditions = None if real_conditions is None else real_conditions[rng.permutation(batch_size)]
        fake_batch = self.fakes_for_discriminator(self.noise(rng, batch_size), fake_conditions)
        real_labels = np.full((batch_size, 1), self.real_label, np.float32)
        fake_labels = np.zeros((batch_size, 1), np.float32)
        negatives = [(fake_batch, fake_conditions, fake_labels)]
        if self.mismatched_ages:
            negatives.append((real_batch, _other_age_groups(real_conditions, rng), fake_labels))
        if self.separate_batches:
            parts = [(real_batch, real_conditions, real_labels), self._joined(negatives)]
        else:
            parts = [self._joined([(real_batch, real_conditions, real_labels)] + negatives)]
        results = []
        self.discriminator.trainable = True
        for images, conditions, labels in parts:
            inputs, labels = self.replicas.shards(
                self.discriminator, [self.as_seen(images), conditions] if self.conditional else self.as_seen(images),
                labels)
            results.append(self.discriminator.train_on_batch(inputs, labels, return_dict=True))
            self.replicas.sync(self.discriminator)
        if self.r1 and self.r1.due(len(parts)):  # R1 in inference mode: D's BN moving averages stay as they are
            self.r1.step([self.as_seen(real_batch), real_conditions] if self.conditional else self.as_seen(real_batch))
        if self.adaptive:
            self.adaptive.adapt(float(results[0]["real_sign"]), batch_size)
        if not self.separate_batches:
            return results[0]
        real_result, fake_result = results
        return {"loss": (real_result["loss"] + fake_result["loss"]) / 2,
                "real_score": real_result["real_score"], "fake_score": fake_result["fake_score"]}

    def train_generator(self, batch_size, rng, conditions=None):
        """Half-step 2: G learns to make D say "real" about fresh fakes, through the stack with D frozen."""
        self.discriminator.trainable = False
        noise = self.noise(rng, batch_size)
        inputs, labels = self.replicas.shards(self.d_on_g, self.generator_input(noise, conditions),
                                              np.ones((batch_size, 1), np.float32))
        generator_loss = self.d_on_g.train_on_batch(inputs, labels)
        self.discriminator.trainable = True
        self.replicas.sync(self.generator)
        return generator_loss

    def train_step(self, real_batch, rng, real_conditions=None):
        """One D step and one G step (or `generator_steps`); returns d_loss, g_loss, D(x) and D(G(z)) of this batch."""
        discriminator_result = self.train_discriminator(real_batch, rng, real_conditions)
        for _ in range(self.generator_steps):
            generator_conditions = (None if real_conditions is None
                                    else real_conditions[rng.permutation(len(real_batch))])
            generator_loss = self.train_generator(len(real_batch), rng, generator_conditions)
        return {"d_loss": float(discriminator_result["loss"]), "g_loss": float(generator_loss),
                "D(x)": float(discriminator_result["real_score"]),
                "D(G(z))": float(discriminator_result["fake_score"]),
                **({"augment_p": self.augment_probability} if self.adaptive else {})}

    @property
    def augment_probability(self):
        """ADA's p (`ada_target`), which a checkpoint keeps; None without it."""
        return float(self.adaptive.probability.numpy()) if self.adaptive else None

    @augment_probability.setter
    def augment_probability(self, value):
        self.adaptive.probability.assign(value)

    def _joined(self, parts):
        """(images, conditions, labels) parts as one batch, each replica's shard holding its slice of each part."""
        images, conditions, labels = zip(*parts)
        shards = self.replicas.count
        return (distribute.joined(images, shards),
                None if conditions[0] is None else distribute.joined(conditions, shards),
                distribute.joined(labels, shards))


def _other_age_groups(conditions, rng):
    """For each one-hot row, another group, uniformly among the rest."""
    groups = conditions.shape[1]
    others = (np.argmax(conditions, axis=1) + rng.integers(1, groups, len(conditions))) % groups
    return np.eye(groups, dtype=conditions.dtype)[others]


def _stack(generator, discriminator, views=()):
    """d_on_g: `Sequential([G, D])` as in the recipe, with D's views between them (augmentation, instance noise)
    when asked; for the conditional pair, the same chain with c fed to G and D."""
    if not is_conditional(generator):
        return keras.Sequential([generator, *views, discriminator], name="d_on_g")
    noise, condition = (keras.Input(shape=tensor.shape[1:], name=name)
                        for tensor, name in zip(generator.inputs, ("noise", "age_group")))
    images = generator([noise, condition])
    for view in views:
        images = view(images)
    return keras.Model([noise, condition], discriminator([images, condition]), name="d_on_g")
