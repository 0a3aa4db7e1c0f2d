"""The gender reader: it reads gender from the encoder's features, belongs to one encoder, and moving z along its
direction keeps a face's gender while the age condition changes."""
import keras
import numpy as np
import pytest

from facegan import FaceganError
from facegan.aging import algorithm, gender
from facegan.aging.models import AgingModels
from facegan.gan.models import build_encoder
from facegan.gan.prior import age_conditions, draw


def labelled_faces(count, seed, size=32):
    """Noise faces, the women's tinted red and the men's blue; ages 13-70."""
    rng = np.random.default_rng(seed)
    genders = rng.integers(0, 2, count)
    faces = rng.uniform(-0.6, 0.6, (count, size, size, 3)).astype(np.float32)
    faces[..., 0] += 0.4 * genders[:, None, None]
    faces[..., 2] += 0.4 * (1 - genders[:, None, None])
    return faces, genders, rng.integers(13, 71, count)


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    noise, condition = keras.Input((100,)), keras.Input((7,))  # a toy G(z, c)
    pixels = keras.layers.Dense(32 * 32 * 3, activation="tanh")(keras.layers.Concatenate()([noise, condition]))
    generator = keras.Model([noise, condition], keras.layers.Reshape((32, 32, 3))(pixels))
    return generator, build_encoder(32, 4, outputs=100)


@pytest.fixture(scope="module")
def reader(models):
    generator, encoder = models
    return gender.fit_reader(encoder, generator, *labelled_faces(400, seed=1))


def test_the_reader_tells_women_from_men_it_never_saw(reader):
    faces, genders, _ages = labelled_faces(200, seed=2)
    assert np.mean((reader.read(faces) > 0) == genders) > 0.9
    assert np.linalg.norm(reader.direction) == pytest.approx(1, abs=1e-5) and reader.slope > 0


def test_a_saved_reader_reads_alike_and_only_beside_its_own_encoder(models, reader, tmp_path):
    generator, encoder = models
    path = str(tmp_path / "gender_reader.npz")
    gender.save_reader(reader, path)
    loaded = gender.load_reader(path, encoder)
    faces, _genders, _ages = labelled_faces(8, seed=3)
    np.testing.assert_allclose(loaded.read(faces), reader.read(faces), rtol=1e-4, atol=1e-4)
    assert gender.load_reader(str(tmp_path / "none.npz"), encoder) is None
    keras.utils.set_random_seed(99)
    another = build_encoder(32, 4, outputs=100)
    with pytest.raises(FaceganError, match=f"{path}: fit to another latent encoder.*facegan fit-gender"):
        gender.load_reader(path, another)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(FaceganError, match="broken.npz: not a gender reader"):
        gender.load_reader(str(tmp_path / "broken.npz"), encoder)


def test_the_offsets_keep_the_reading_of_the_source_at_the_target(models, reader):
    generator, _encoder = models
    codes = np.random.default_rng(4).uniform(-1, 1, (32, 100)).astype(np.float32)
    source, target = age_conditions(np.full(32, 22)), age_conditions(np.full(32, 60)) * 3
    goal = reader.read(draw(generator, codes, source))
    offsets = gender.kept_gender_offsets(generator, reader, codes, source, target)
    drifted = np.abs(reader.read(draw(generator, codes, target)) - goal).mean()
    kept = np.abs(reader.read(draw(generator, codes + offsets[:, None] * reader.direction, target)) - goal).mean()
    assert kept < 0.3 * drifted and np.abs(offsets).max() <= gender.LARGEST_OFFSET


def test_aging_moves_z_only_along_the_direction_as_far_as_the_offsets_say(models, reader):
    generator, _encoder = models
    codes = np.random.default_rng(5).uniform(-1, 1, (3, 100)).astype(np.float32)
    ages = np.array([20.0, 25.0, 33.0])
    plain = algorithm.aging_change(AgingModels(generator, None, None), codes, ages, 60, 1.5, samples=4)
    kept = algorithm.aging_change(AgingModels(generator, None, None, reader), codes, ages, 60, 1.5, samples=4)
    assert np.abs(kept - plain).mean() > 1e-3
    still = gender.GenderReader(**{**vars(reader), "direction": np.zeros_like(reader.direction)})
    np.testing.assert_allclose(algorithm.aging_change(AgingModels(generator, None, None, still), codes, ages, 60, 1.5,
                                                      samples=4), plain,
                               atol=1e-5)
    offsets = gender.kept_gender_offsets(generator, reader, codes, age_conditions(ages),
                                         age_conditions(ages) + 1.5 * (age_conditions(np.full(3, 60)) -
                                                                       age_conditions(ages)))
    keeping = AgingModels(generator, None, None, reader)
    np.testing.assert_allclose(algorithm.regenerate_at(keeping, codes, ages, 60, 1.5),
                               algorithm.regenerate_at(AgingModels(generator, None, None),
                                                       codes + offsets[:, None] * reader.direction, ages, 60, 1.5),
                               atol=1e-5)


def test_the_shipped_reader_belongs_to_the_shipped_encoder_and_undoes_the_drift_towards_male():
    from facegan.io import model_folder
    from facegan.io.data import find_images, read_face, read_genders
    from facegan.io.pixels import to_unit

    from tests.conftest import REPO

    folder = model_folder.ModelFolder(model_folder.SHIPPED_AGING_DIR)
    generator = folder.load_generator()
    reader = gender.load_reader(folder.gender_reader, folder.load_encoder(required=True))
    files = find_images(f"{REPO}/data")[::10]  # 200 faces it never saw
    faces = to_unit(np.stack([read_face(path, 64) for path in files]))
    assert np.mean((reader.read(faces) > 0) == np.array(read_genders(files))) > 0.8
    codes = np.random.default_rng(6).uniform(-1, 1, (100, 100)).astype(np.float32)
    young, old = age_conditions(np.full(100, 25)), age_conditions(np.full(100, 60))
    female_young, female_old = (np.mean(reader.read(draw(generator, codes, c)) > 0) for c in (young, old))
    assert female_young - female_old > 0.2, "the drift this reader exists for"
    offsets = gender.kept_gender_offsets(generator, reader, codes, young, old)
    kept = np.mean(reader.read(draw(generator, codes + offsets[:, None] * reader.direction, old)) > 0)
    assert abs(kept - female_young) < 0.05


def test_several_ages_at_once_are_each_age_alone_with_the_source_drawn_once(models, reader, monkeypatch):
    generator, _encoder = models
    rng = np.random.default_rng(6)
    faces, codes = rng.uniform(-0.5, 0.5, (3, 32, 32, 3)), rng.uniform(-1, 1, (3, 100)).astype(np.float32)
    ages, targets = np.array([20.0, 25.0, 33.0]), (10, 30, 45, 60, 75)
    table = np.linspace(0.8, 1.4, 49).reshape(7, 7)
    keeping = AgingModels(generator, None, None, reader, strengths=table)
    drawn = []

    def counted(generator, codes, conditions=None):
        drawn.append(len(codes))
        return draw(generator, codes, conditions)

    monkeypatch.setattr(algorithm, "draw", counted)
    alone = [algorithm.at_age(keeping, faces, codes, ages, target, samples=4) for target in targets]
    passes_alone, drawn[:] = sum(drawn), []
    together = algorithm.at_ages(keeping, faces, codes, ages, targets, samples=4)
    assert sum(drawn) < 0.65 * passes_alone, "the source's faces are drawn once, not once an age"
    for one, many in zip(alone, together):
        np.testing.assert_array_equal(many, one)
    regenerated = algorithm.at_ages(keeping, faces, codes, ages, targets[:2], regenerate=True)
    for target, many in zip(targets[:2], regenerated):
        np.testing.assert_array_equal(many, algorithm.at_age(keeping, faces, codes, ages, target, regenerate=True))
