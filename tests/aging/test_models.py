"""The aging models: loaded together from one model folder, each checked to belong to the others."""
import shutil

import numpy as np
import pytest

from facegan import FaceganError
from facegan.aging import gender
from facegan.aging.models import AgingModels
from facegan.io import weights
from facegan.io.model_folder import ModelFolder
from facegan.latent import encoder


def test_the_aging_models_load_together_and_a_plain_pair_or_a_missing_encoder_is_refused(saved_models, tmp_path):
    folder = tmp_path / "aging"
    folder.mkdir()
    shutil.copy(saved_models / "conditional.h5", folder / "generator.h5")
    shutil.copy(saved_models / "conditional_discriminator.h5", folder / "discriminator.h5")
    aging = ModelFolder(str(folder))
    with pytest.raises(FaceganError, match="latent_encoder.h5: missing; train it once"):
        AgingModels.load(aging)
    generator = weights.load_model_h5(aging.generator)
    latent_encoder, _losses = encoder.train_latent_encoder(generator, filters=4, steps=1, batch_size=2)
    weights.save_model_h5(latent_encoder, aging.encoder)
    models = AgingModels.load(aging)
    loaded, loaded_encoder = models.generator, models.encoder
    assert models.gender is None and models.strengths is None and loaded.output_shape == generator.output_shape
    probe = np.zeros((1,) + tuple(latent_encoder.input_shape[1:]), np.float32)
    assert np.allclose(loaded_encoder.predict(probe, verbose=0), latent_encoder.predict(probe, verbose=0))
    fit = gender.fit_reader(loaded_encoder, loaded, np.zeros((4, 32, 32, 3), np.float32), [0, 1, 0, 1],
                            [20, 25, 60, 65])
    gender.save_reader(fit, aging.gender_reader)
    assert np.allclose(AgingModels.load(aging).gender.weights, fit.weights)
    shutil.copy(saved_models / "generator.h5", folder / "generator.h5")
    with pytest.raises(FaceganError, match="generator.h5 is not age-conditional"):
        AgingModels.load(aging)
