"""What the gender reader and the strength table share. A FeatureReader is a standardised linear read of the latent
encoder's last features (before its z layer): the gender reader's logit of "female" (facegan.aging.gender), the
age reader's years (facegan.aging.strengths). A fit is saved as an .npz with a probe of the model it was fit to
(the encoder's z of a fixed noise image, or G's face at a fixed z), so that loading it beside another model fails
in one line instead of reading nonsense."""
import os
from dataclasses import dataclass

import keras
import numpy as np

from facegan import FaceganError
from facegan.gan.prior import age_conditions, draw, noise_dim, predicted, sample_noise


def features_model(encoder):
    """The encoder without its last (z) layer: what a FeatureReader reads."""
    inputs = keras.Input(encoder.input_shape[1:])
    outputs = inputs
    for layer in encoder.layers[:-1]:
        outputs = layer(outputs)
    return keras.Model(inputs, outputs)


@dataclass
class FeatureReader:
    weights: np.ndarray  # (features,), on standardised features
    bias: float
    mean: np.ndarray     # of the features it was fit on
    scale: np.ndarray
    features: keras.Model = None  # `features_model` of the encoder; not saved

    def read(self, images):
        """The reading of images in [-1, 1]: one number each."""
        found = predicted(self.features, np.asarray(images, np.float32), 256)
        return ((found - self.mean) / self.scale) @ self.weights + self.bias


def standardised_features(encoder, faces):
    """(the encoder's features_model, the faces' features standardised, their mean, their scale)."""
    features = features_model(encoder)
    found = features.predict(np.asarray(faces, np.float32), verbose=0, batch_size=256)
    mean, scale = found.mean(axis=0), found.std(axis=0) + 1e-6
    return features, (found - mean) / scale, mean, scale


def encoder_probe(encoder):
    """The encoder's z of a fixed noise image: which encoder a gender reader was fit to."""
    image = np.random.default_rng(0).uniform(-1, 1, (1,) + tuple(encoder.input_shape[1:])).astype(np.float32)
    return keras.ops.convert_to_numpy(encoder(image, training=False))[0]


def generator_probe(generator):
    """G's face at a fixed z and age group: which generator a strength table was fit to."""
    codes = sample_noise(np.random.default_rng(0), 1, noise_dim(generator))
    return draw(generator, codes, age_conditions([25]))[0]


def save_fit(path, arrays):
    """Writes {name: array} (a probe among them) as an .npz, whole or not at all."""
    from facegan.io.files import replaced_atomically

    with replaced_atomically(path) as temporary:
        np.savez(temporary, **arrays)


def load_fit(path, names, probe, what, model, command, optional=()):
    """{name: array} of the .npz at `path` (None where there is no file), checked by its saved probe to be fit to
    the `model` whose `probe` is given; else a FaceganError naming the file, `what` it should be, and the
    `command` that fits it again. The `optional` names are there only where the file has them (older fits)."""
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path) as saved:
            arrays = {name: saved[name] for name in names}
            arrays.update({name: saved[name] for name in optional if name in saved.files})
    except (OSError, ValueError, KeyError) as problem:
        raise FaceganError(f"{path}: not a {what} ({problem})") from None
    saved_probe = arrays["probe"]
    if saved_probe.shape != probe.shape or not np.allclose(saved_probe, probe, rtol=0,
                                                           atol=1e-3 * np.abs(probe).max()):
        raise FaceganError(f"{path}: fit to another {model} than the one beside it; fit it again with `{command}`")
    return arrays
