"""Face math: the expression language, the arithmetic, and the two interpolations."""
import numpy as np
import pytest

from facegan import FaceganError
from facegan.latent.facemath import evaluate, images_needed, interpolate, parse, path_through, top_level_terms

from tests.conftest import write_faces

DIM = 4


def test_parses_the_issue_example_with_the_usual_precedence():
    assert parse("mean(alice/*) - mean(neutral/*) + mean(bob/*)") == (
        "add", ("subtract", ("mean", "alice/*"), ("mean", "neutral/*")), ("mean", "bob/*"))
    assert parse("a.jpg + 2*b.jpg / 4") == (
        "add", ("path", "a.jpg"), ("divide", ("multiply", ("number", 2.0), ("path", "b.jpg")), ("number", 4.0)))
    assert parse("-(a.png - b.png)") == ("multiply", ("number", -1.0), ("subtract", ("path", "a.png"),
                                                                         ("path", "b.png")))


def test_paths_keep_their_slashes_dashes_and_digits():
    assert parse("/home/me/2.jpg") == ("path", "/home/me/2.jpg")
    assert parse("my-face.jpg - z/x-1.npy") == ("subtract", ("path", "my-face.jpg"), ("path", "z/x-1.npy"))


@pytest.mark.parametrize("expression, message", [
    ("", "empty"), ("a.jpg +", "ends too early"), ("(a.jpg", "ends too early"), ("a.jpg )", r"unexpected '\)'"),
])
def test_malformed_expressions_are_clear_errors(expression, message):
    with pytest.raises(FaceganError, match=message):
        parse(expression)


@pytest.fixture
def codes(tmp_path):
    """Two folders of 'photos' and a saved z; each photo's code is a fixed vector."""
    alice = write_faces(str(tmp_path / "alice"), 3)
    bob = write_faces(str(tmp_path / "bob"), 2, seed=1)
    np.save(tmp_path / "saved.npy", np.full(DIM, 0.5, np.float32))
    vectors = {}
    for index, path in enumerate(sorted(images_needed(parse(f"mean({alice}/*)")))):
        vectors[path] = np.full(DIM, float(index), np.float32)  # alice's three: 0, 1, 2 -> mean 1
    for path in images_needed(parse(bob)):
        vectors[path] = np.full(DIM, -1.0, np.float32)
    return tmp_path, vectors


def test_arithmetic_on_means_folders_and_saved_codes(codes):
    root, vectors = codes
    result = evaluate(parse(f"mean({root}/alice/*) - {root}/bob + 2 * {root}/saved.npy / 4"), vectors.get, DIM)
    assert np.allclose(result, 1.0 + 1.0 + 0.25)
    assert len(top_level_terms(parse("a.jpg - b.jpg + c.npy"))) == 3


def test_a_match_with_saved_codes_uses_only_the_codes(tmp_path):
    write_faces(str(tmp_path / "z"), 2)  # reconstructions beside the codes, as `facegan project` leaves them
    np.save(tmp_path / "z" / "one.npy", np.zeros(DIM, np.float32))
    np.save(tmp_path / "z" / "two.npy", np.ones(DIM, np.float32))
    assert images_needed(parse(f"mean({tmp_path}/z/*)")) == []
    assert np.allclose(evaluate(parse(f"mean({tmp_path}/z/*)"), None, DIM), 0.5)


@pytest.mark.parametrize("expression, message", [
    ("saved.npy + 1", "a number cannot be added"), ("saved.npy * saved.npy", "two faces cannot be multiplied"),
    ("1 / saved.npy", "cannot divide by a face"), ("saved.npy / 0", "division by zero"),
    ("mean(nothing/*)", "no images or .npy z files"), ("missing.jpg", "no such file or folder"),
])
def test_meaningless_arithmetic_is_a_clear_error(codes, monkeypatch, expression, message):
    root, vectors = codes
    monkeypatch.chdir(root)
    with pytest.raises(FaceganError, match=message):
        evaluate(parse(expression), vectors.get, DIM)


def test_a_code_of_the_wrong_length_is_named(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros(3))
    with pytest.raises(FaceganError, match="short.npy: holds 3 numbers, but the generator takes z of 4"):
        evaluate(parse(str(tmp_path / "short.npy")), None, DIM)


def test_both_interpolations_start_and_end_at_the_faces():
    rng = np.random.default_rng(0)
    start, end = rng.uniform(-1, 1, (2, 100)).astype(np.float32)
    for method in ("linear", "cube"):
        frames = interpolate(start, end, 9, method)
        assert frames.shape == (9, 100)
        assert np.allclose(frames[0], start, atol=1e-4) and np.allclose(frames[-1], end, atol=1e-4)
        assert np.all(np.abs(frames) <= 1)
    with pytest.raises(FaceganError, match="unknown interpolation"):
        interpolate(start, end, 3, "spline")


def test_cube_midpoints_stay_typical_draws_of_the_prior_and_linear_ones_do_not():
    """U(-1, 1) has standard deviation 1/sqrt(3) = 0.577; the linear midpoint of two draws only 0.408."""
    rng = np.random.default_rng(0)
    start, end = rng.uniform(-1, 1, (2, 20000)).astype(np.float32)
    assert np.std(interpolate(start, end, 3, "linear")[1]) == pytest.approx(0.408, abs=0.01)
    assert np.std(interpolate(start, end, 3, "cube")[1]) == pytest.approx(0.577, abs=0.01)


def test_a_path_through_three_faces_repeats_no_frame():
    codes = np.array([[0.0], [1.0], [0.0]], np.float32)
    assert np.allclose(path_through(codes, 3)[:, 0], [0.0, 0.5, 1.0, 0.5, 0.0])
