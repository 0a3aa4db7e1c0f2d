"""The DCGAN training step of Radford et al., exactly as documented, and the only code that touches `trainable`.

One step:
  1. noise z ~ U(-1, 1); fakes = G(z); D trains on the real batch (label 1) and the fakes (label 0), mixed;
  2. fresh noise; D frozen; the stacked `d_on_g = Sequential([G, D])` trains towards label 1, which is the
     non-saturating generator loss, maximise log D(G(z)); D trainable again.

Keras 3 pitfall this layout avoids: a model's set of trainable weights is fixed when its first
`train_on_batch` after `compile()` runs, not when it is compiled. If D were still trainable at the first
`d_on_g.train_on_batch`, every G step would silently train D as well; if D were frozen at its own first
`train_on_batch` (the "compile D, freeze, compile the stack, never toggle" pattern), D would never learn.
Setting `discriminator.trainable` before *each* call makes both first calls see the right state, whichever
runs first, so the step is correct by construction. `tests/test_recipe.py` snapshots every weight around each
half-step to prove it.

Batch normalisation, decided and tested:
  - D's step runs D's BN on the statistics of the mixed real+fake batch and updates D's moving averages.
  - G's step runs G's BN on batch statistics (and updates G's moving averages); the frozen D runs in inference
    mode (Keras 3 does that for a frozen BN layer), i.e. on the moving averages of the mixed batches it was
    trained on. Measured on UTKFace after 2 epochs, that frozen D scores fakes lower (~0.001-0.02) than D
    does in its own step (~0.05-0.15): the G step faces a harsher D than the D step trains.
  - The fakes shown to D are made exactly as the G step makes them, with G's BN on batch statistics, but
    without touching G's moving averages: D's step changes D only.
  - Sampling (`generator.predict`, generate.py, the .h5 contract) uses G's moving averages.

The classic stabilisers are options, all off by default (the recipe above is the default, unchanged):
  - `real_label=0.9`: one-sided label smoothing (Salimans et al., 2016): D learns 0.9 for real images;
  - `separate_batches=True`: D's step as in the original DCGAN code, all-real and all-fake batches apart, so
    each gets its own BN statistics (here: two `train_on_batch` calls, i.e. two Adam updates);
  - `generator_steps=2`: G's step twice per D step (as DCGAN-tensorflow does, so that d_loss does not go to 0).

The conditional pair of the aging issue, G(z, c) and D(x, c), goes through the very same steps: the real
batch comes with its conditions, fakes get the batch's conditions shuffled (so they follow the data's
distribution of ages, independently of the real images), and the stack feeds c to both models. One option
is its own, off by default:
  - `mismatched_ages=True`: the matching-aware discriminator of Reed et al. (2016, GAN-CLS): D also sees the
    real batch under wrong age groups (each drawn uniformly from the other groups), labelled 0, so it must
    judge "a real face of *this* age", not only "a real face"; G is then pushed towards the asked-for age.
    The mismatched reals join the fakes' side of D's batch (and so its reported D(G(z))).

Under a tf.distribute strategy (`train.py --distribute`, facegan/distribute.py) the steps are the same two
`train_on_batch` calls, given each replica its shard of the global batch; every replica's D batch is mixed like
the whole one, BN works on each replica's shard, and the replicas' BN moving averages are averaged after each call.
"""
import keras
import numpy as np

from facegan import distribute
from facegan.augment import discriminator_views
from facegan.models import is_conditional

LEARNING_RATE = 2e-4
BETA_1 = 0.5


def _is_real(labels, scores):
    """1 where the label says real (1, or 0.9 with label smoothing), else 0."""
    labels = keras.ops.convert_to_tensor(labels, dtype=scores.dtype)  # numpy on the torch backend
    return keras.ops.cast(labels > 0.5, scores.dtype)


def real_score(labels, scores):
    """D(x): the mean score D gives the real images of the batch."""
    real = _is_real(labels, scores)
    return keras.ops.sum(scores * real) / keras.ops.maximum(keras.ops.sum(real), 1.0)


def fake_score(labels, scores):
    """D(G(z)): the mean score D gives the fakes of the batch."""
    fake = 1.0 - _is_real(labels, scores)
    return keras.ops.sum(scores * fake) / keras.ops.maximum(keras.ops.sum(fake), 1.0)


class DCGAN:
    """A generator and a discriminator, compiled for the classic recipe; `train_step` is one iteration."""

    def __init__(self, generator, discriminator, learning_rate=LEARNING_RATE, beta_1=BETA_1, real_label=1.0,
                 separate_batches=False, generator_steps=1, mismatched_ages=False, discriminator_learning_rate=None,
                 diffaugment=(), instance_noise=0.0, replicas=distribute.ONE_DEVICE):
        """`replicas`: facegan.distribute's, for a strategy; G and D must then have been built in its scope."""
        self.replicas = replicas
        self.real_label, self.separate_batches, self.generator_steps = real_label, separate_batches, generator_steps
        self.generator = generator
        self.discriminator = discriminator
        self.conditional = is_conditional(generator)
        if mismatched_ages and not self.conditional:
            raise ValueError("mismatched ages need the conditional pair")
        self.mismatched_ages = mismatched_ages
        self.noise_dim = generator.inputs[0].shape[-1]
        with replicas.scope():
            self.views = discriminator_views(diffaugment, instance_noise)
            discriminator.compile(optimizer=keras.optimizers.Adam(discriminator_learning_rate or learning_rate,
                                                                  beta_1=beta_1),
                                  loss="binary_crossentropy", metrics=[real_score, fake_score])
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
        return rng.uniform(-1.0, 1.0, (count, self.noise_dim)).astype(np.float32)

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
        """Half-step 1: D learns real (1) from G's fakes (0), in one mixed batch (or two, `separate_batches`)."""
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
                "D(G(z))": float(discriminator_result["fake_score"])}

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
