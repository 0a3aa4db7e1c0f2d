"""Data-parallel training with tf.distribute (`train.py --distribute`): the strategy, and what the recipe needs
from it to keep its two `train_on_batch` calls.

- `mirrored`: `tf.distribute.MirroredStrategy` over every GPU of this machine (with no GPU: over the logical
  CPUs of FACEGAN_LOGICAL_CPUS, see `use_logical_cpus`); `multi-worker`: `MultiWorkerMirroredStrategy`, one
  process per machine, the cluster given by the standard TF_CONFIG.
- The batch: Keras' `train_on_batch` under a strategy hands its input to `strategy.run` as it is, so a numpy
  batch would go WHOLE to every replica (N times the work, nothing gained). `Replicas.split` cuts the global
  batch into N equal shards (DistributedValues), one per replica; Keras scales each replica's mean loss by
  1/N and the optimizer sums the gradients across replicas: the step follows the mean gradient of the global
  batch, as one device would with the whole batch (tests/gan/test_distribute.py).
- Batch normalisation: each replica normalises with the statistics of its own shard (per-replica BN, not
  SyncBatchNormalization), as a one-device run with batch/N would. Keras 3 keeps a copy of BN's moving averages
  per replica and lets the copies drift apart; `Replicas.sync` averages them across replicas after every
  `train_on_batch`, so every replica, and the saved .h5, holds the moving average of the shards' statistics.
- Every worker runs the same loop on the same global batch (same seed, same data order) and keeps the slices
  of its own replicas; only the chief writes the run folder (`working_folder`).
"""
import contextlib
import os
import shutil
import tempfile
import weakref

import numpy as np

from facegan import FaceganError
from facegan.backend import require_tensorflow

LOGICAL_CPUS = "FACEGAN_LOGICAL_CPUS"


def use_logical_cpus():
    """Testing aid: FACEGAN_LOGICAL_CPUS=N splits the CPU into N logical devices, so that `--distribute mirrored`
    runs N replicas on a machine without GPUs. It must act before TensorFlow starts its devices."""
    count = int(os.environ.get(LOGICAL_CPUS) or 1)
    if count < 2:
        return
    require_tensorflow(LOGICAL_CPUS)
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    if len(tf.config.get_logical_device_configuration(cpu) or ()) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        raise FaceganError(f"{LOGICAL_CPUS}={count} came after TensorFlow had started its devices") from error


def replicas_for(name):
    """The `Replicas` of `--distribute NAME`; call it before TensorFlow runs anything (logical devices and
    MultiWorkerMirroredStrategy must be set up first)."""
    if name == "none":
        return ONE_DEVICE
    require_tensorflow(f"--distribute {name}")
    import tensorflow as tf

    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise FaceganError("--distribute multi-worker needs TF_CONFIG (the cluster and this worker's place in "
                               "it): see docs/distributed.md")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _reduce_logs_without_an_axis()
        return Replicas(strategy)
    use_logical_cpus()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return Replicas(tf.distribute.MirroredStrategy([device.name for device in devices]))


def _reduce_logs_without_an_axis():
    """Keras 3 (3.15 here) reduces the scalar logs of a multi-worker step with `strategy.reduce(..., axis=0)`,
    which fails with "Invalid reduction dimension 0 for input with 0 dimensions" (tensorflow/tensorflow#72388):
    every `train_on_batch` would. Its TensorFlow trainer gets the same mean with no axis instead, for that case
    only (the weights are not affected; the logs come out as a mirrored run's)."""
    from keras.src.backend.tensorflow import trainer
    from keras.src import tree

    keras_reduce = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return keras_reduce(values, strategy, reduction)
    if trainer.reduce_per_replica.__module__ == trainer.__name__:
        trainer.reduce_per_replica = reduce_per_replica


class Replicas:
    """The replicas of a strategy (or, with none, the one device): splits global batches across them, runs a
    function on each replica's shard, and keeps their BN moving averages equal."""

    def __init__(self, strategy=None):
        self.strategy = strategy
        self.count = strategy.num_replicas_in_sync if strategy else 1
        self._compiled = {}  # run's tf.functions, by function
        self._averages = weakref.WeakKeyDictionary()  # sync's tf.functions, by model
        self._prepared = weakref.WeakSet()  # models whose loss and metrics are built (see shards)

    def scope(self):
        """Where models and optimizers are built so that their variables are mirrored on every replica."""
        return self.strategy.scope() if self.strategy else contextlib.nullcontext()

    @property
    def is_chief(self):
        """Whether this process writes the run folder: the one process, or TF_CONFIG's chief (worker 0 when the
        cluster names no chief), as the TF multi-worker guide has it."""
        resolver = getattr(self.strategy, "cluster_resolver", None)
        if resolver is None or resolver.task_type is None:
            return True
        return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                                 and "chief" not in resolver.cluster_spec().as_dict())

    def check_batch(self, batch_size):
        if batch_size % self.count:
            raise FaceganError(f"--batch-size {batch_size} is the global batch: it must split evenly across the "
                               f"{self.count} replicas")

    def split(self, batch):
        """A global batch (an array or a list of arrays) as one equal, contiguous shard per replica."""
        if self.strategy is None:
            return batch
        if isinstance(batch, (list, tuple)):
            return [self.split(part) for part in batch]
        size = len(batch) // self.count
        return self.strategy.experimental_distribute_values_from_function(
            lambda context: batch[context.replica_id_in_sync_group * size:][:size])

    def shards(self, model, inputs, labels):
        """`model.train_on_batch`'s inputs and labels, split across replicas. Keras builds a model's loss and
        metrics from the first batch it is given, and cannot read shapes from per-replica values: the first time,
        `model.test_on_batch` on one shard builds them (it changes no weight)."""
        if self.strategy is None:
            return inputs, labels
        if model not in self._prepared:
            size = len(labels) // self.count
            model.test_on_batch([part[:size] for part in inputs] if isinstance(inputs, list) else inputs[:size],
                                labels[:size])
            self._prepared.add(model)
        return self.split(inputs), self.split(labels)

    def run(self, function, batch):
        """`function` of each replica's shard of `batch`, gathered into the global result as float32 numpy."""
        import keras

        if self.strategy is None:
            return keras.ops.convert_to_numpy(function(batch))
        if function not in self._compiled:
            import tensorflow as tf

            self._compiled[function] = tf.function(
                lambda shards: self.strategy.gather(self.strategy.run(function, args=(shards,)), axis=0))
        return keras.ops.convert_to_numpy(self._compiled[function](self.split(batch)))

    def sync(self, model):
        """Averages `model`'s BN moving statistics across replicas (each replica updated its own copy from its
        own shard in the last step)."""
        if self.strategy is None or not model.non_trainable_weights:
            return
        if model not in self._averages:
            import tensorflow as tf

            def average(weights):
                values = [tf.identity(weight.value) for weight in weights]  # tensors: all_reduce takes no variables
                means = tf.distribute.get_replica_context().all_reduce("MEAN", values)
                for weight, mean in zip(weights, means):
                    weight.assign(mean)
            self._averages[model] = tf.function(
                lambda: self.strategy.run(average, args=(model.non_trainable_weights,)))
        self._averages[model]()

    @contextlib.contextmanager
    def working_folder(self, run_dir):
        """The folder this process writes: the run folder for the chief; for another worker, a copy of it in a
        temporary folder (it reads a --resume's checkpoint there), removed at the end, as the TF guide advises
        (every worker runs the same code, collective operations included, but only the chief's files count)."""
        if self.is_chief:
            yield run_dir
            return
        scratch = tempfile.mkdtemp(prefix="facegan-worker-")
        copy = os.path.join(scratch, os.path.basename(os.path.normpath(run_dir)))
        if os.path.isdir(run_dir):
            shutil.copytree(run_dir, copy)
        try:
            yield copy
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


ONE_DEVICE = Replicas()


def joined(arrays, shards):
    """The parts of a batch (real images, fakes, ...) as one array whose contiguous split into `shards` gives
    each replica its slice of every part: each replica's D batch is mixed like the whole (with one shard, a
    plain concatenation)."""
    pieces = [np.split(array, shards) for array in arrays]
    return np.concatenate([part[shard] for shard in range(shards) for part in pieces])
