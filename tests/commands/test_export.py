"""`facegan export --keras2`: copies of generators that tf-keras (Keras 2) loads and draws the same faces from."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from facegan.cli import main
from facegan.io import model_folder, weights

from tests.conftest import REPO

ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}


TF_KERAS_PREDICT = """
import sys
import numpy as np, tf_keras
for path in sys.argv[1:]:
    model = tf_keras.models.load_model(path, compile=False)
    inputs = dict(np.load(path + ".in.npz"))
    np.save(path + ".tf_keras.npy", model.predict([inputs[name] for name in sorted(inputs)], verbose=0))
"""


def _same_in_tf_keras(pairs):
    """Each (Keras 3 file, tf-keras file) pair predicts the same faces from the same inputs in both Keras."""
    pytest.importorskip("tf_keras", reason="the test extra's tf-keras is not installed")
    rng = np.random.default_rng(0)
    expected = {}
    for original, copy in pairs:
        model = weights.load_model_h5(original, "generator")
        inputs = [rng.uniform(-1, 1, (4, 100)).astype(np.float32), np.eye(7, dtype=np.float32)[[0, 2, 5, 6]]]
        inputs = inputs[:len(model.inputs)]
        np.savez(copy + ".in.npz", **{f"input_{index}": value for index, value in enumerate(inputs)})
        expected[copy] = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    result = subprocess.run([sys.executable, "-c", TF_KERAS_PREDICT, *expected], capture_output=True, text=True,
                            env={**ENVIRONMENT, "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    for copy, images in expected.items():
        np.testing.assert_allclose(np.load(copy + ".tf_keras.npy"), images, atol=2e-6)


def test_a_saved_plain_generator_loads_in_tf_keras_as_it_is_and_export_serves_the_conditional_one(saved_models,
                                                                                                   tmp_path):
    original, conditional = str(saved_models / "conditional.h5"), str(tmp_path / "conditional_keras2.h5")
    assert main(["export", "--keras2", original, conditional]) == 0
    inputs = [np.zeros((2, 100), np.float32), np.eye(7, dtype=np.float32)[[1, 5]]]
    np.testing.assert_array_equal(weights.load_model_h5(conditional, "generator", True).predict(inputs, verbose=0),
                                  weights.load_model_h5(original).predict(inputs, verbose=0))
    plain = str(tmp_path / "generator.h5")
    shutil.copyfile(saved_models / "generator.h5", plain)
    _same_in_tf_keras([(plain, plain), (original, conditional)])


def test_the_shipped_generators_export_for_tf_keras(tmp_path):
    pairs = []
    for shipped in (model_folder.SHIPPED_DIR, model_folder.SHIPPED_AGING_DIR):
        pairs.append((model_folder.ModelFolder(shipped).generator, str(tmp_path / f"{os.path.basename(shipped)}.h5")))
        assert main(["export", "--keras2", shipped, pairs[-1][1]]) == 0
    _same_in_tf_keras(pairs)


def test_export_does_not_overwrite_its_source(saved_models, tmp_path, capsys):
    source = str(tmp_path / "generator.h5")
    shutil.copyfile(saved_models / "generator.h5", source)
    assert main(["export", "--keras2", source, source]) == 2
    assert "the copy must go to another file" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):  # --keras2 is the only form there is, and must be said
        main(["export", str(tmp_path), str(tmp_path / "copy.h5")])
