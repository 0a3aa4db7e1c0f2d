"""The strength table: each pair of age groups gets the strength at which its faces age, to the reader, as far as
the reference group's do at the calibrated strength; the table belongs to one generator; aging uses it."""
import keras
import numpy as np
import pytest

from facegan import FaceganError
from facegan.aging import algorithm, defaults, strengths
from facegan.aging.features import generator_probe
from facegan.aging.models import AgingModels
from facegan.gan.models import build_encoder
from facegan.gan.prior import AGE_GROUPS, age_conditions, age_group, draw


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))  # a toy G(z, c)
    pixels = keras.layers.Dense(16 * 16 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    return keras.Model([noise, condition], keras.layers.Reshape((16, 16, 3))(pixels))


class MeanPixel:
    """A reader whose 'age' is a face's mean pixel: what the fake aging below moves."""

    def read(self, images):
        return np.asarray(images).mean(axis=(1, 2, 3))


def test_each_group_gets_the_strength_that_ages_it_as_far_as_the_reference_group(generator, monkeypatch):
    gain = np.array([0.5, 0.9, 1.0, 1.25, 0.7, 1.0, 1.0])  # how far a unit of strength ages each source group
    middle = [int(np.mean(bounds)) for bounds in AGE_GROUPS]

    def aged_at(models, own, codes, source_ages, target_age, strength, samples):  # a fake aging, read by MeanPixel
        assert models.generator is generator and samples == strengths.FIT_CHANGE_SAMPLES
        group = age_group(int(source_ages[0]))
        tried.add(round(strength, 6))
        return own * 0 + strength * gain[group] * (target_age - source_ages[0]) / 100

    tried = set()
    monkeypatch.setattr(algorithm, "at_age", aged_at)
    table = strengths.fit_table(AgingModels(generator, None, None, photo_strength=1.3), MeanPixel(), faces=4)
    assert tried == {round(1.3 * multiple, 6) for multiple in strengths.MULTIPLES}, "multiples of the pair's own"
    reference = strengths.REFERENCE_GROUP
    for source in range(len(AGE_GROUPS)):
        for target in range(len(AGE_GROUPS)):
            if source in (target, reference) or target == reference:
                assert table[source, target] == 1
                continue
            wanted = gain[reference] * (middle[target] - middle[reference]) / (
                gain[source] * (middle[target] - middle[source]))
            low, high = min(strengths.MULTIPLES), max(strengths.MULTIPLES)
            if low <= wanted <= high:
                assert table[source, target] == pytest.approx(wanted, rel=1e-4), (source, target)
            else:  # never reached inside the tried multiples: the nearest end
                assert table[source, target] == pytest.approx(low if wanted < low else high), (source, target)
    assert table[age_group(33), age_group(60)] > 1 > table[age_group(16), age_group(60)]


def test_the_age_reader_reads_the_ages_of_faces_it_never_saw():
    keras.utils.set_random_seed(0)
    encoder = build_encoder(32, 4, outputs=100)

    def faces(count, seed):  # noise faces that grow lighter with age
        rng = np.random.default_rng(seed)
        ages = rng.uniform(5, 80, count)
        return rng.uniform(-0.3, 0.3, (count, 32, 32, 3)) + (ages[:, None, None, None] - 40) / 80, ages

    reader = strengths.fit_age_reader(encoder, *faces(300, 1))
    unseen, ages = faces(100, 2)
    assert np.corrcoef(reader.read(unseen), ages)[0, 1] > 0.9


def test_aging_takes_each_faces_strength_from_the_table_unless_one_is_given(generator):
    rng = np.random.default_rng(0)
    faces, codes = rng.uniform(-0.5, 0.5, (3, 16, 16, 3)), rng.uniform(-1, 1, (3, 100)).astype(np.float32)
    source_ages = np.array([16.0, 25.0, 33.0])
    table = np.ones((7, 7))
    table[age_group(16), age_group(60)], table[age_group(33), age_group(60)] = 0.8, 1.2
    np.testing.assert_allclose(algorithm.multiples_of(table, source_ages, 60), [0.8, 1, 1.2])
    plain, by_table = AgingModels(generator, None, None), AgingModels(generator, None, None, strengths=table)
    by_table = algorithm.at_age(by_table, faces, codes, source_ages, 60, samples=2)
    for index, multiple in enumerate((0.8, 1, 1.2)):
        strength = defaults.PHOTO_STRENGTH * multiple
        alone = algorithm.at_age(plain, faces[index:index + 1], codes[index:index + 1],
                                 source_ages[index:index + 1], 60, strength, samples=2)
        np.testing.assert_allclose(by_table[index], alone[0], atol=1e-5)
    own = AgingModels(generator, None, None, strengths=table, photo_strength=1.3)  # a pair calibrated lower
    np.testing.assert_allclose(algorithm.at_age(own, faces, codes, source_ages, 60, samples=2),
                               algorithm.at_age(plain, faces, codes, source_ages, 60,
                                                1.3 * np.array([0.8, 1, 1.2]), samples=2), atol=1e-5)
    with_table = AgingModels(generator, None, None, strengths=table)
    given = algorithm.at_age(with_table, faces, codes, source_ages, 60, 1.85, samples=2)
    np.testing.assert_allclose(given, algorithm.at_age(plain, faces, codes, source_ages, 60, 1.85, samples=2),
                               atol=1e-6)
    assert np.abs(given[0] - by_table[0]).mean() > 1e-3
    regenerated = algorithm.at_age(with_table, faces, codes, source_ages, 60, regenerate=True)
    source, target = age_conditions(source_ages), age_conditions(np.full(3, 60))
    np.testing.assert_allclose(regenerated,
                               draw(generator, codes, source + defaults.REGENERATED_STRENGTH * (target - source)),
                               atol=1e-5, err_msg="the table is for the photo's way only")


def test_a_saved_table_loads_only_beside_its_own_generator(generator, tmp_path):
    path = str(tmp_path / "aging_strengths.npz")
    table = np.arange(49, dtype=np.float64).reshape(7, 7) / 10
    strengths.save_table(table, 1.45, generator, path)
    loaded, photo_strength = strengths.load_table(path, generator)
    np.testing.assert_array_equal(loaded, table)
    assert photo_strength == 1.45
    assert strengths.load_table(str(tmp_path / "none.npz"), generator) == (None, defaults.PHOTO_STRENGTH)
    older = str(tmp_path / "older.npz")  # saved before tables held their strength: fit at the default
    np.savez(older, strengths=table, probe=generator_probe(generator))
    assert strengths.load_table(older, generator)[1] == defaults.PHOTO_STRENGTH
    strengths.save_table(table, 0.0, generator, path)
    with pytest.raises(FaceganError, match=f"{path}: its calibrated strength is 0, not a positive number"):
        strengths.load_table(path, generator)
    another = keras.models.clone_model(generator)  # freshly initialised weights
    with pytest.raises(FaceganError, match=f"{path}: fit to another generator.*facegan fit-strengths"):
        strengths.load_table(path, another)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(FaceganError, match="broken.npz: not a strength table"):
        strengths.load_table(str(tmp_path / "broken.npz"), generator)


def test_the_shipped_table_belongs_to_the_shipped_pair_and_steps_the_thirties_further_to_sixty():
    from facegan.io import model_folder

    folder = model_folder.ModelFolder(model_folder.SHIPPED_AGING_DIR)
    table, photo_strength = strengths.load_table(folder.strength_table, folder.load_generator())
    assert table[age_group(33), age_group(60)] > 1.05 and 1 < photo_strength < 2.5
    assert np.all(np.diag(table) == 1) and np.all(table[strengths.REFERENCE_GROUP] == 1)
