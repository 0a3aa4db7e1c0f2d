"""What D sees, changed the same way in both steps: DiffAugment (Zhao et al., 2020) and instance noise.

On 20k faces D learns the training set by heart and wins outright; changing every image D sees (reals and
fakes alike) takes that away. The changes must be differentiable, since G's step learns through them, so they
sit inside the stacked `d_on_g` between G and D; in D's own step the same layers change the mixed batch before
`train_on_batch`. D and G themselves, and their `.h5` files, are untouched. Images are in [-1, 1], NHWC.
"""
import keras
from keras import ops

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125  # shift by up to 1/8 of the image, zeros coming in (DiffAugment's settings)
CUTOUT_RATIO = 0.5  # one zeroed square of half the image's side per image
# Adaptive augmentation (ADA, Karras et al., 2020): images over which p can go all the way from 0 to 1. ADA's
# 500,000 is for runs of millions of images; ours are a tenth of that.
ADAPTATION_IMAGES = 100_000


@keras.saving.register_keras_serializable(package="facegan")
class DiffAugment(keras.layers.Layer):
    """DiffAugment's colour, translation and cutout, each on every image with its own random draw; the identity
    outside training, so the stack predicts as G then D. With `target` (ADA), each change is made to each image
    only with probability p, which `adapt` moves after every D step: up while D calls more than `target` of the
    reals real (a sign that it learns them by heart), down while fewer. p starts at 0, as in ADA."""

    def __init__(self, policy=POLICIES, seed=None, target=None, **kwargs):
        super().__init__(**kwargs)
        unknown = set(policy) - set(POLICIES)
        if unknown or not policy:
            raise ValueError(f"DiffAugment policy {','.join(policy)}: choose among {','.join(POLICIES)}")
        if target is not None and not 0 < target < 1:
            raise ValueError(f"an adaptive augmentation's target must be in (0, 1), not {target}")
        self.policy = tuple(policy)
        self.seed = seed
        self.target = target
        self.seed_generator = keras.random.SeedGenerator(seed)
        # a variable, not a float, so that compiled steps (JAX, tf.function) read its current value
        self.probability = None if target is None else keras.Variable(0.0, trainable=False, name="probability")

    def call(self, images, training=False):
        if not training:
            return images
        for name in self.policy:
            changed = getattr(self, f"_{name}")(images)
            if self.probability is not None:
                chosen = self._uniform(images, (1, 1, 1)) < ops.cast(self.probability, images.dtype)
                changed = ops.where(chosen, changed, images)
            images = changed
        return images

    def adapt(self, real_sign, images):
        """ADA's rule, after a D step on `images` reals: p moves by images / ADAPTATION_IMAGES, up when
        `real_sign` (the mean over the reals of sign(D(x) - 0.5)) is above the target, down when below."""
        step = (1.0 if real_sign > self.target else -1.0) * images / ADAPTATION_IMAGES
        self.probability.assign(min(max(float(self.probability.numpy()) + step, 0.0), 1.0))

    def _uniform(self, images, shape_tail):
        return keras.random.uniform((ops.shape(images)[0],) + shape_tail, seed=self.seed_generator,
                                    dtype=images.dtype)

    def _color(self, images):
        images = images + (self._uniform(images, (1, 1, 1)) - 0.5)  # brightness
        mean = ops.mean(images, axis=3, keepdims=True)
        images = (images - mean) * (self._uniform(images, (1, 1, 1)) * 2) + mean  # saturation
        mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
        return (images - mean) * (self._uniform(images, (1, 1, 1)) + 0.5) + mean  # contrast

    def _translation(self, images):
        batch, height, width, channels = ops.shape(images)
        padded = ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])  # what a shift brings in: zeros
        for axis, size in ((1, height), (2, width)):
            limit = int(size * TRANSLATION_RATIO + 0.5)
            shift = keras.random.randint((batch, 1), -limit, limit + 1, seed=self.seed_generator)
            index = ops.clip(ops.arange(size)[None, :] + shift + 1, 0, size + 1)
            shape = [batch, 1, 1, 1]
            shape[axis] = size
            index = ops.reshape(index, shape)
            target = list(ops.shape(padded))
            target[axis] = size
            padded = ops.take_along_axis(padded, ops.broadcast_to(index, target), axis=axis)
        return padded

    def _cutout(self, images):
        batch, height, width, _ = ops.shape(images)
        inside = None
        for axis, size in ((1, height), (2, width)):
            side = int(size * CUTOUT_RATIO + 0.5)
            start = keras.random.randint((batch, 1), 0, size + (1 - side % 2), seed=self.seed_generator) - side // 2
            position = ops.arange(size)[None, :]
            covered = ops.logical_and(position >= start, position < start + side)
            shape = [batch, 1, 1, 1]
            shape[axis] = size
            covered = ops.reshape(covered, shape)
            inside = covered if inside is None else ops.logical_and(inside, covered)
        return images * ops.cast(ops.logical_not(inside), images.dtype)

    def get_config(self):
        return {**super().get_config(), "policy": list(self.policy), "seed": self.seed, "target": self.target}


def discriminator_views(diffaugment=(), instance_noise=0.0, seed=None, ada_target=0.0):
    """The layers between an image and D, in order: DiffAugment's policy (adaptive with `ada_target`), then
    Gaussian instance noise of standard deviation `instance_noise` (Sønderby et al., 2016); none by default, as
    in the plain recipe."""
    views = []
    if ada_target and not diffaugment:
        raise ValueError("an adaptive augmentation needs a DiffAugment policy to adapt")
    if diffaugment:
        views.append(DiffAugment(diffaugment, seed=seed, target=ada_target or None, name="diffaugment"))
    if instance_noise:
        views.append(keras.layers.GaussianNoise(instance_noise, seed=seed, name="instance_noise"))
    return views
