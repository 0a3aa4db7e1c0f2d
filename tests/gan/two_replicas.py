"""The recipe under a MirroredStrategy of 2 replicas on 2 logical CPUs. TensorFlow must be told of the logical
devices before it starts, so tests/gan/test_distribute.py runs this file in a pytest process of its own (it is not
collected with the rest); `python -m pytest tests/gan/two_replicas.py` works on its own too."""
import os

os.environ.setdefault("FACEGAN_LOGICAL_CPUS", "2")

from facegan.gan import distribute  # noqa: E402

REPLICAS = distribute.replicas_for("mirrored")  # before TensorFlow runs anything

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from facegan.gan.config import DEFAULTS  # noqa: E402

from facegan.gan import training  # noqa: E402
from facegan.gan.models import build_discriminator, build_generator  # noqa: E402
from facegan.gan.penalty import R1  # noqa: E402
from facegan.gan.recipe import DCGAN  # noqa: E402
from facegan.io import checkpoints, model_folder  # noqa: E402

from tests.conftest import TINY  # noqa: E402
from tests.gan import test_recipe  # noqa: E402
from tests.gan.test_recipe import OPTIONS, make_gan, real_batch  # noqa: E402,F401 (real_batch: a fixture)

GLOBAL_BATCH = 64  # 2 replicas x 32
EVERYTHING = "+".join(OPTIONS)


def test_the_strategy_has_two_replicas():
    assert REPLICAS.count == 2 and REPLICAS.is_chief


@pytest.fixture(params=[("plain", "recipe"), ("conditional", EVERYTHING)],
                ids=["plain-recipe", "conditional-every-option"])
def replicated_gan(request):
    """The plain pair as in the recipe; the conditional pair with every D-side option and bf16 at once (one by
    one, under a strategy, they would take minutes on 2 cores)."""
    gan = make_gan(*request.param, replicas=REPLICAS)
    assert all(isinstance(weight.value, tf.distribute.DistributedValues) for weight in gan.generator.weights)
    return gan


def test_each_half_step_changes_exactly_its_own_model(replicated_gan, real_batch):
    test_recipe.test_each_half_step_changes_exactly_its_own_model(replicated_gan, real_batch)
    for weight in replicated_gan.generator.weights + replicated_gan.discriminator.weights:
        first, second = (copy.numpy() for copy in weight.value.values)
        np.testing.assert_array_equal(first, second, err_msg=f"{weight.path}: the replicas' copies must agree")


def test_the_step_is_right_whichever_model_trains_first(real_batch):
    test_recipe.test_the_step_is_right_whichever_model_trains_first(make_gan("conditional", replicas=REPLICAS),
                                                                     real_batch)


def _pair(replicas, weights=None):
    """A pair without BN (the dense G and D of a 2x2 image): their step does not depend on how the batch is split."""
    keras.utils.set_random_seed(3)
    with replicas.scope():
        generator = keras.Sequential([keras.Input((100,)), keras.layers.Dense(12, activation="tanh"),
                                      keras.layers.Reshape((2, 2, 3))], name="generator")
        discriminator = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(),
                                          keras.layers.Dense(8, activation="relu"),
                                          keras.layers.Dense(1, activation="sigmoid")], name="discriminator")
    gan = DCGAN(generator, discriminator, replicas=replicas)
    if weights:
        for model, values in zip((generator, discriminator), weights):
            model.set_weights(values)
    return gan


def test_without_bn_a_step_on_two_replicas_of_32_is_a_step_on_one_device_of_64():
    one = _pair(distribute.ONE_DEVICE)
    two = _pair(REPLICAS, [one.generator.get_weights(), one.discriminator.get_weights()])
    real = np.random.default_rng(0).uniform(-1, 1, (GLOBAL_BATCH, 2, 2, 3)).astype(np.float32)
    for _ in range(2):
        results = [gan.train_step(real, np.random.default_rng(7)) for gan in (one, two)]
        assert results[0] == pytest.approx(results[1], rel=1e-5), "losses and scores: of the global batch"
        for model in ("generator", "discriminator"):
            for a, b in zip(getattr(one, model).get_weights(), getattr(two, model).get_weights()):
                np.testing.assert_allclose(a, b, atol=1e-6, err_msg=model)


def test_keras_averages_the_replicas_gradients_over_the_global_batch():
    """Adam hides a scale error in the gradients; plain SGD shows it: the 2 x 32 step is the 1 x 64 step."""
    inputs = np.random.default_rng(0).normal(size=(GLOBAL_BATCH, 5)).astype(np.float32)
    targets = inputs @ np.arange(5, dtype=np.float32)[:, None]
    models = []
    for replicas in (distribute.ONE_DEVICE, REPLICAS):
        keras.utils.set_random_seed(0)
        with replicas.scope():
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(*replicas.shards(model, inputs, targets))
        models.append(model)
    for a, b in zip(*(model.get_weights() for model in models)):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_an_r1_update_on_two_replicas_of_32_is_one_on_one_device_of_64():
    """Plain SGD, which would show a scale error that Adam hides: each replica's share of the loss is 1/2."""
    images = np.random.default_rng(0).uniform(-1, 1, (GLOBAL_BATCH, 2, 2, 3)).astype(np.float32)
    weights = []
    for replicas in (distribute.ONE_DEVICE, REPLICAS):
        keras.utils.set_random_seed(3)
        with replicas.scope():
            discriminator = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Flatten(),
                                              keras.layers.Dense(8, activation="tanh"),
                                              keras.layers.Dense(1, activation="sigmoid")])
            discriminator.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
            discriminator.optimizer.build(discriminator.trainable_variables)
        before = discriminator.get_weights()
        R1(discriminator, 1.0, 4, replicas).step(images)
        weights.append(discriminator.get_weights())
    assert not np.allclose(before[0], weights[1][0]), "the update moved D"
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def per_replica_statistics_step(model, shards):
    """One Adam step of a one-device `model` as 2 replicas take it: the mean of the shards' losses, each shard
    through BN on its own statistics; the moving averages become the mean of the shards' updates."""
    trainable, moving = model.trainable_weights, model.non_trainable_weights
    with tf.GradientTape() as tape:
        losses, updates = [], []
        for inputs, labels in shards:
            scores, updated = model.stateless_call([w.value for w in trainable], [w.value for w in moving],
                                                   inputs, training=True)
            losses.append(keras.losses.BinaryCrossentropy()(labels, scores))
            updates.append(updated)
        loss = sum(losses) / len(losses)
    model.optimizer.apply_gradients(zip(tape.gradient(loss, [w.value for w in trainable]), trainable))
    for weight, *values in zip(moving, *updates):
        weight.assign(np.mean([keras.ops.convert_to_numpy(value) for value in values], axis=0))


def assert_same_weights(model, reference):
    for a, b in zip(model.weights, reference.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=a.path)


def test_with_bn_each_replica_normalises_with_the_statistics_of_its_own_32():
    """The DCGAN pair: D's step and G's step on 2 x 32 are the steps whose BN works on each half of the global
    batch (D's half mixed as the whole: 32 real, 32 fakes), with the replicas' moving averages averaged."""
    keras.utils.set_random_seed(1)
    one = DCGAN(build_generator(**TINY), build_discriminator(**TINY))
    with REPLICAS.scope():
        generator, discriminator = build_generator(**TINY), build_discriminator(**TINY)
    two = DCGAN(generator, discriminator, replicas=REPLICAS)
    for source, model in ((one.generator, generator), (one.discriminator, discriminator)):
        model.set_weights(source.get_weights())
    half = GLOBAL_BATCH // 2
    real = np.random.default_rng(0).uniform(-1, 1, (GLOBAL_BATCH, 32, 32, 3)).astype(np.float32)

    noise = one.noise(np.random.default_rng(7), GLOBAL_BATCH)
    fakes = two.fakes_for_discriminator(noise)
    halves = np.concatenate([keras.ops.convert_to_numpy(one._fakes(noise[:half])),
                             keras.ops.convert_to_numpy(one._fakes(noise[half:]))])
    np.testing.assert_allclose(fakes, halves, atol=1e-6)
    assert np.abs(fakes - one.fakes_for_discriminator(noise)).max() > 1e-3, "not the statistics of all 64"

    two.train_discriminator(real, np.random.default_rng(7))
    labels = np.concatenate([np.ones((half, 1)), np.zeros((half, 1))]).astype(np.float32)
    per_replica_statistics_step(one.discriminator, [(np.concatenate([real[:half], fakes[:half]]), labels),
                                                    (np.concatenate([real[half:], fakes[half:]]), labels)])
    assert_same_weights(discriminator, one.discriminator)

    rng = np.random.default_rng(8)
    noise = one.noise(np.random.default_rng(8), GLOBAL_BATCH)
    two.train_generator(GLOBAL_BATCH, rng)
    one.discriminator.trainable = False
    ones = np.ones((half, 1), np.float32)
    per_replica_statistics_step(one.d_on_g, [(noise[:half], ones), (noise[half:], ones)])
    one.discriminator.trainable = True
    assert_same_weights(generator, one.generator)
    assert_same_weights(discriminator, one.discriminator)


def test_a_mirrored_run_checkpoints_resumes_and_saves_the_h5_of_a_one_device_run(face_folder, tmp_path):
    from tests.gan.test_distribute import assert_plain_keras_loads

    run = str(tmp_path / "run")
    config = {**DEFAULTS, **TINY, "data": face_folder, "batch_size": 8, "ema": 0.9, "distribute": "mirrored"}
    messages = []
    trainer = training.train({**config, "epochs": 1}, run, log=messages.append)
    assert trainer.replicas.count == 2 and "3 steps of 8 per epoch" in messages[0] and "2 replicas of 4" in messages[0]
    training.train({**config, "epochs": 2}, run, resume=True)
    assert checkpoints.read_state(run)["epoch"] == 2
    assert sorted(os.listdir(os.path.join(run, "samples"))) == ["epoch_001.png", "epoch_002.png"]
    assert_plain_keras_loads(run)
    assert os.path.isfile(os.path.join(model_folder.checkpoint_dir(run), model_folder.EMA_GENERATOR_FILE))
