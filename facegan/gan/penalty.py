"""Lazy R1 on D (`train.py --r1-gamma`): Mescheder et al. (2018) penalise the gradient of D's logit with respect
to the real images, (gamma/2) E ||grad_x D(x)||^2, so that D does not rise steeply around the data; the lazy
form of StyleGAN2 (Karras et al., 2020) takes it as one extra Adam update of D every `R1_INTERVAL` D steps,
weighted by that interval to keep its overall weight.

What is penalised: D's logit, the input of its final sigmoid (the plain D's last Dense without its activation,
the conditional D's last Activation's input), with D's BN in inference mode (on its moving averages): each image's
gradient is then its own, as R1 defines it, and it is the D that G's step learns through (docs/recipe.md). The
gradient is taken at the images as D sees them (after --diffaugment and instance noise, as in ADA). The
input gradient needs double backpropagation, hence one short function per Keras backend.
"""
import keras
import numpy as np

from facegan.gan.config import R1_INTERVAL


def logit_function(discriminator):
    """D's inputs -> D's score before its final sigmoid, as float32, sharing D's layers and weights."""
    head = discriminator.layers[-1]
    if getattr(head, "activation", None) is not keras.activations.sigmoid:
        raise ValueError(f"{discriminator.name} must end in a sigmoid for R1 to take its logit")
    trunk = keras.Model(discriminator.inputs, head.input)

    def logits(inputs):
        features = trunk(inputs, training=False)
        if isinstance(head, keras.layers.Dense):  # the plain D: its last Dense, less the sigmoid
            features = keras.ops.matmul(keras.ops.cast(features, head.kernel.dtype), head.kernel) + head.bias
        return keras.ops.cast(features, "float32")
    return logits


class R1:
    """D's lazy R1 update: `due` says from D's optimizer's step count (which a checkpoint restores) whether this
    D step takes one, `step` takes it with D's own optimizer (whose state the checkpoint keeps)."""

    def __init__(self, discriminator, gamma, interval=R1_INTERVAL, replicas=None):
        self.discriminator, self.interval = discriminator, interval
        self.weight = gamma / 2 * interval
        self.logits = logit_function(discriminator)
        self.replicas = replicas
        self._compiled = None

    def due(self, updates_per_step):
        """Whether the D step just taken (of `updates_per_step` optimizer updates) is every `interval`th: D's
        optimizer counts `interval` steps of updates and then one R1 update, cycle after cycle."""
        cycle = updates_per_step * self.interval
        return int(self.discriminator.optimizer.iterations.numpy()) % (cycle + 1) == cycle

    def penalty(self, inputs):
        """E ||grad_x logit(x)||^2 over the batch `inputs` (images, or [images, conditions]), unweighted."""
        return keras.ops.convert_to_numpy(_squared_norm(_input_gradient(self.logits, _tensors(inputs))))

    def step(self, inputs):
        """One Adam update of D on weight * E ||grad_x logit(x)||^2 of the real batch `inputs`."""
        backend = keras.backend.backend()
        if backend == "tensorflow":
            self._tensorflow_step(inputs)
            return
        variables = self.discriminator.trainable_variables
        gradients = (_jax_gradients if backend == "jax" else _torch_gradients)(self._loss, variables,
                                                                               _tensors(inputs))
        self.discriminator.optimizer.apply_gradients(zip(gradients, variables))

    def _loss(self, inputs):
        return self.weight * _squared_norm(_input_gradient(self.logits, inputs))

    def _tensorflow_step(self, inputs):
        """Compiled once; under a strategy each replica takes its shard, its loss divided by the replicas, since
        D's optimizer sums their gradients (as Keras' own train step does)."""
        import tensorflow as tf

        replicas = self.replicas.count if self.replicas else 1

        def replica_step(inputs):
            variables = self.discriminator.trainable_variables
            with tf.GradientTape() as tape:
                loss = self._loss(inputs) / replicas
            gradients = tape.gradient(loss, [variable.value for variable in variables],
                                      unconnected_gradients=tf.UnconnectedGradients.ZERO)
            self.discriminator.optimizer.apply_gradients(zip(gradients, variables))

        strategy = self.replicas and self.replicas.strategy
        if self._compiled is None:
            self._compiled = tf.function(
                (lambda shards: strategy.run(replica_step, args=(shards,))) if strategy else replica_step)
        self._compiled(self.replicas.split(inputs) if strategy else _tensors(inputs))


def _tensors(inputs):
    if isinstance(inputs, (list, tuple)):
        return [keras.ops.convert_to_tensor(np.asarray(part, np.float32)) for part in inputs]
    return keras.ops.convert_to_tensor(np.asarray(inputs, np.float32))


def _squared_norm(gradients):
    """The mean over the batch of each image's squared gradient norm."""
    return keras.ops.mean(keras.ops.sum(keras.ops.square(gradients), axis=tuple(range(1, len(gradients.shape)))))


def _input_gradient(logits, inputs):
    """d(sum of logits)/d images, differentiable again (each image's logit depends on that image only)."""
    images, rest = (inputs[0], inputs[1:]) if isinstance(inputs, list) else (inputs, None)

    def with_images(images):
        return images if rest is None else [images, *rest]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(images)
            total = tf.reduce_sum(logits(with_images(images)))
        return tape.gradient(total, images)
    if backend == "jax":
        import jax

        return jax.grad(lambda images: keras.ops.sum(logits(with_images(images))))(images)
    import torch

    images = images.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(logits(with_images(images)).sum(), images, create_graph=True)
    return gradient


def _jax_gradients(loss, variables, inputs):
    import jax

    def loss_of(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return loss(inputs)
    return jax.grad(loss_of)([variable.value for variable in variables])


def _torch_gradients(loss, variables, inputs):
    import torch

    values = [variable.value for variable in variables]
    gradients = torch.autograd.grad(loss(inputs), values, allow_unused=True)
    return [torch.zeros_like(value) if gradient is None else gradient for gradient, value in zip(gradients, values)]
