"""The Keras 3 trainable pitfalls, proved by snapshots of every weight (trainable and BN moving statistics)."""
import keras
import numpy as np
import pytest

from facegan.gan import distribute
from facegan.gan.models import (build_conditional_discriminator, build_conditional_generator, build_discriminator,
                                build_generator)
from facegan.gan.prior import age_conditions
from facegan.gan.augment import ADAPTATION_IMAGES
from facegan.gan.recipe import DCGAN

from tests.conftest import TINY

BATCH = 8


def snapshot(model):
    return [weight.numpy() for weight in model.weights]


def changed(before, model):
    """For each weight of `model`, whether it differs from the snapshot."""
    return [not np.array_equal(old, weight.numpy()) for old, weight in zip(before, model.weights)]


# The D-side options of the quality issue, each on its own: they must keep every guarantee of the plain step.
OPTIONS = {"recipe": {}, "diffaugment": {"diffaugment": ("color", "translation", "cutout")},
           "instance-noise": {"instance_noise": 0.1}, "ttur": {"discriminator_learning_rate": 4e-4},
           "ada": {"diffaugment": ("color", "translation", "cutout"), "ada_target": 0.6},
           "r1": {"r1_gamma": 1.0, "r1_interval": 1},  # every D step of these tests takes its lazy R1 update too
           "bf16": {}}  # models built under the mixed_bfloat16 policy, as train.py --precision bf16 does


def make_gan(pair, option="recipe", replicas=distribute.ONE_DEVICE):
    """The pair with `option` (a name in OPTIONS, or several joined by +), built in `replicas`' scope
    (tests/gan/two_replicas.py runs these tests under a strategy)."""
    names = option.split("+")
    keras.utils.set_random_seed(1)
    keras.config.set_dtype_policy("mixed_bfloat16" if "bf16" in names else "float32")
    try:
        with replicas.scope():
            return _built(pair, {key: value for name in names for key, value in OPTIONS[name].items()}, replicas)
    finally:
        keras.config.set_dtype_policy("float32")


def _built(pair, options, replicas):
    if pair == "plain":
        return DCGAN(build_generator(**TINY), build_discriminator(**TINY), **options, replicas=replicas)
    return DCGAN(build_conditional_generator(**TINY), build_conditional_discriminator(**TINY), **options,
                 replicas=replicas)


@pytest.fixture(params=["plain", "conditional"])
def gan(request):
    """The plain pair and the aging issue's conditional pair G(z, age), D(x, age): the same steps for both."""
    return make_gan(request.param)


@pytest.fixture(params=[(pair, option) for pair in ("plain", "conditional") for option in OPTIONS],
                ids=lambda param: "-".join(param))
def any_gan(request):
    """Both pairs with each D-side option: the snapshot guarantees hold for all."""
    return make_gan(*request.param)


def conditions_for(gan):
    """A batch's one-hot age groups, for the conditional pair; None for the plain one."""
    return age_conditions(np.linspace(5, 90, BATCH)) if gan.conditional else None


@pytest.fixture
def real_batch():
    return np.random.default_rng(0).uniform(-1, 1, (BATCH, 32, 32, 3)).astype(np.float32)


EVERY_OPTION = "+".join(name for name in OPTIONS if name != "recipe")  # all D-side options at once, bf16 too


@pytest.mark.parametrize("any_gan", [(pair, option) for pair in ("plain", "conditional")
                                     for option in [*OPTIONS, EVERY_OPTION]], indirect=True,
                         ids=lambda param: "-".join(param))
def test_each_half_step_changes_exactly_its_own_model(any_gan, real_batch):
    gan = any_gan
    rng = np.random.default_rng(0)
    for _ in range(3):  # the first calls trace the train functions; later ones must behave the same
        generator_before, discriminator_before = snapshot(gan.generator), snapshot(gan.discriminator)
        gan.train_discriminator(real_batch, rng, conditions_for(gan))
        assert all(changed(discriminator_before, gan.discriminator)), "every D weight, moving stats too"
        assert not any(changed(generator_before, gan.generator)), "D's step must leave G alone"

        generator_before, discriminator_before = snapshot(gan.generator), snapshot(gan.discriminator)
        gan.train_generator(BATCH, rng, conditions_for(gan))
        assert all(changed(generator_before, gan.generator)), "every G weight, moving stats too"
        assert not any(changed(discriminator_before, gan.discriminator)), "G's step must leave D alone"
        assert gan.discriminator.trainable, "D is trainable again between steps"


def test_the_step_is_right_whichever_model_trains_first(any_gan, real_batch):
    gan = any_gan
    rng = np.random.default_rng(0)
    discriminator_before = snapshot(gan.discriminator)
    gan.train_generator(BATCH, rng, conditions_for(gan))  # d_on_g traced first, this time
    assert not any(changed(discriminator_before, gan.discriminator))
    generator_before = snapshot(gan.generator)
    gan.train_discriminator(real_batch, rng, conditions_for(gan))
    assert all(changed(discriminator_before, gan.discriminator))
    assert not any(changed(generator_before, gan.generator))


def test_without_the_toggle_the_generator_step_would_train_the_discriminator(any_gan):
    """The guard is real: the same stacked call with D left trainable changes D's weights."""
    gan = any_gan
    discriminator_before = snapshot(gan.discriminator)
    noise = np.random.uniform(-1, 1, (BATCH, 100)).astype(np.float32)
    gan.d_on_g.train_on_batch(gan.generator_input(noise, conditions_for(gan)), np.ones((BATCH, 1)))
    assert any(changed(discriminator_before, gan.discriminator))


def test_freezing_once_before_compiling_the_stack_never_trains_the_discriminator(real_batch):
    """The book pattern: compile D, freeze it, compile the stack, never toggle. D's first train_on_batch then
    sees a frozen D, and Keras 3 fixes that: D never learns."""
    keras.utils.set_random_seed(1)
    generator, discriminator = build_generator(**TINY), build_discriminator(**TINY)
    discriminator.compile(optimizer="adam", loss="binary_crossentropy")
    discriminator.trainable = False
    stack = keras.Sequential([generator, discriminator])
    stack.compile(optimizer="adam", loss="binary_crossentropy")
    before = snapshot(discriminator)
    with pytest.warns(UserWarning, match="does not have any trainable weights"):  # all Keras says about it
        discriminator.train_on_batch(real_batch, np.ones((BATCH, 1)))
    assert not any(changed(before, discriminator))


def test_fakes_for_the_discriminator_are_the_g_step_fakes(gan):
    """Same function as in d_on_g (BN on batch statistics), and G's moving averages untouched."""
    inputs = gan.generator_input(gan.noise(np.random.default_rng(5), BATCH), conditions_for(gan))
    before = snapshot(gan.generator)
    fakes = gan.fakes_for_discriminator(*(inputs if gan.conditional else [inputs]))
    assert not any(changed(before, gan.generator))
    training_mode, _ = gan.generator.stateless_call(
        [w.value for w in gan.generator.trainable_weights], [w.value for w in gan.generator.non_trainable_weights],
        inputs, training=True)
    inference_mode = gan.generator.predict(inputs, verbose=0)
    np.testing.assert_allclose(fakes, keras.ops.convert_to_numpy(training_mode), atol=1e-6)
    assert np.abs(fakes - inference_mode).max() > 1e-3, "batch statistics, not the moving averages"


def test_a_step_reports_the_losses_and_scores(gan, real_batch):
    result = gan.train_step(real_batch, np.random.default_rng(0), conditions_for(gan))
    assert set(result) == {"d_loss", "g_loss", "D(x)", "D(G(z))"}
    assert 0 < result["D(x)"] < 1 and 0 < result["D(G(z))"] < 1
    inputs = [real_batch, conditions_for(gan)] if gan.conditional else real_batch
    scores = gan.discriminator.predict(inputs, verbose=0)
    assert result["d_loss"] > 0 and result["g_loss"] > 0
    assert scores.shape == (BATCH, 1)


def test_noise_is_uniform_in_minus_one_one(gan):
    noise = gan.noise(np.random.default_rng(0), 4000)
    assert noise.shape == (4000, 100) and noise.dtype == np.float32
    assert noise.min() >= -1 and noise.max() <= 1
    assert noise.mean() == pytest.approx(0, abs=0.01) and noise.std() == pytest.approx(1 / np.sqrt(3), rel=0.01)


def test_the_stabilisers_do_what_they_say_and_keep_each_half_step_to_its_own_model(real_batch):
    keras.utils.set_random_seed(1)
    gan = DCGAN(build_generator(**TINY), build_discriminator(**TINY), real_label=0.9, separate_batches=True,
                generator_steps=2)
    calls = {"discriminator": [], "d_on_g": []}
    for name in calls:
        model = getattr(gan, name)
        original = model.train_on_batch

        def spy(inputs, labels, _record=calls[name], _original=original, **options):
            _record.append((np.array(inputs), np.array(labels)))
            return _original(inputs, labels, **options)
        model.train_on_batch = spy
    rng = np.random.default_rng(0)
    for _ in range(2):
        generator_before, discriminator_before = snapshot(gan.generator), snapshot(gan.discriminator)
        gan.train_discriminator(real_batch, rng)
        assert all(changed(discriminator_before, gan.discriminator))
        assert not any(changed(generator_before, gan.generator))
    (real_images, real_labels), (fake_images, fake_labels) = calls["discriminator"][:2]
    np.testing.assert_array_equal(real_images, real_batch)
    assert np.all(real_labels == np.float32(0.9)) and np.all(fake_labels == 0) and len(fake_images) == BATCH

    calls["d_on_g"].clear()
    result = gan.train_step(real_batch, rng)
    assert len(calls["d_on_g"]) == 2 and all(np.all(labels == 1) for _, labels in calls["d_on_g"])
    assert 0 < result["D(x)"] < 1 and 0 < result["D(G(z))"] < 1 and gan.discriminator.trainable


def test_mismatched_ages_show_d_the_real_batch_under_other_groups_as_fake(real_batch):
    keras.utils.set_random_seed(1)
    gan = DCGAN(build_conditional_generator(**TINY), build_conditional_discriminator(**TINY), mismatched_ages=True)
    calls = []
    original = gan.discriminator.train_on_batch

    def spy(inputs, labels, **options):
        calls.append(([np.array(part) for part in inputs], np.array(labels)))
        return original(inputs, labels, **options)
    gan.discriminator.train_on_batch = spy
    real_conditions = age_conditions(np.linspace(5, 90, BATCH))
    rng = np.random.default_rng(0)
    for _ in range(2):
        generator_before, discriminator_before = snapshot(gan.generator), snapshot(gan.discriminator)
        gan.train_step(real_batch, rng, real_conditions)
        assert all(changed(discriminator_before, gan.discriminator)) and all(changed(generator_before, gan.generator))
    (images, conditions), labels = calls[-1]
    assert len(calls) == 2 and len(images) == 3 * BATCH, "one mixed batch: real, fakes, mismatched reals"
    np.testing.assert_array_equal(images[:BATCH], real_batch)
    np.testing.assert_array_equal(conditions[:BATCH], real_conditions)
    np.testing.assert_array_equal(images[2 * BATCH:], real_batch)
    mismatched = conditions[2 * BATCH:]
    assert np.all(mismatched.sum(axis=1) == 1) and not np.any(mismatched.argmax(1) == real_conditions.argmax(1))
    np.testing.assert_array_equal(labels.ravel(), [1] * BATCH + [0] * 2 * BATCH)


def test_mismatched_ages_need_the_conditional_pair():
    with pytest.raises(ValueError, match="conditional"):
        DCGAN(build_generator(**TINY), build_discriminator(**TINY), mismatched_ages=True)


def test_the_recipe_shows_d_the_images_as_they_are(real_batch):
    gan = make_gan("plain")
    assert gan.views == [] and [layer.name for layer in gan.d_on_g.layers] == ["generator", "discriminator"]
    assert gan.as_seen(real_batch) is real_batch


@pytest.mark.parametrize("option", ["diffaugment", "instance-noise"])
def test_d_sees_every_image_through_the_same_views_in_both_steps(option, real_batch):
    gan = make_gan("plain", option)
    assert isinstance(gan.d_on_g, keras.Sequential)
    assert gan.d_on_g.layers[0] is gan.generator and gan.d_on_g.layers[-1] is gan.discriminator
    assert gan.d_on_g.layers[1:-1] == gan.views and len(gan.views) == 1
    seen = gan.as_seen(real_batch)
    assert seen.shape == real_batch.shape and not np.allclose(seen, real_batch)
    assert not np.allclose(gan.as_seen(real_batch), seen), "a fresh draw each time"
    inputs = gan.noise(np.random.default_rng(0), BATCH)
    np.testing.assert_allclose(gan.d_on_g.predict(inputs, verbose=0),
                               gan.discriminator.predict(gan.generator.predict(inputs, verbose=0), verbose=0),
                               atol=1e-6, err_msg="outside training the stack is G then D")


def test_ada_adapts_p_after_each_d_step_from_ds_calls_on_the_reals(real_batch):
    gan = make_gan("plain", "ada")
    gan.augment_probability = 0.5
    rng = np.random.default_rng(0)
    for _ in range(3):
        before = gan.augment_probability
        result = gan.train_step(real_batch, rng)
        assert result["augment_p"] == gan.augment_probability
        assert abs(gan.augment_probability - before) == pytest.approx(BATCH / ADAPTATION_IMAGES, rel=1e-3)  # float32
    assert make_gan("plain", "diffaugment").augment_probability is None


@pytest.mark.parametrize("separate_batches", [False, True])
def test_lazy_r1_comes_after_every_16th_d_step_counted_by_ds_optimizer(separate_batches, real_batch):
    """The count is D's optimizer's, which a checkpoint restores: a resumed run keeps the schedule
    (tests/gan/test_training.py)."""
    keras.utils.set_random_seed(1)
    gan = DCGAN(build_generator(**TINY), build_discriminator(**TINY), separate_batches=separate_batches,
                r1_gamma=0.013)
    taken, step = [], gan.r1.step

    def spy(inputs):
        taken.append((d_steps, np.array(inputs)))
        step(inputs)
    gan.r1.step = spy
    rng = np.random.default_rng(0)
    for d_steps in range(1, 34):
        gan.train_discriminator(real_batch, rng)
    assert [step for step, _ in taken] == [16, 32]
    np.testing.assert_array_equal(taken[0][1], real_batch, "on the real batch as D sees it")
    assert make_gan("plain").r1 is None, "off by default"


def test_ttur_gives_d_its_own_learning_rate():
    gan = make_gan("plain", "ttur")
    assert float(gan.discriminator.optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.d_on_g.optimizer.learning_rate) == pytest.approx(2e-4)
