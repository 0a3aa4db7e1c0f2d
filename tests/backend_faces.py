"""Run by tests/test_backends.py in a fresh Python per backend (KERAS_BACKEND): `write FOLDER` saves a plain and
a conditional generator, every weight random (BN's moving statistics too), as BACKEND-plain.h5 and
BACKEND-conditional.h5; `read FOLDER` loads every other backend's files and writes the faces they draw from fixed
inputs as WRITER-KIND-by-BACKEND.npy; `write,read FOLDER` both, in one start. The test compares the faces of all
readers."""
import os
import sys

import numpy as np

from facegan.backend import keras_backend

TINY = {"image_size": 32, "filters": 4}
KINDS = ("plain", "conditional")


def inputs(kind):
    from facegan.gan.prior import age_conditions, sample_noise

    rng = np.random.default_rng(7)
    noise = sample_noise(rng, 6, 100)
    return noise if kind == "plain" else [noise, age_conditions(np.linspace(5, 90, 6))]


def faces(generator, kind):
    return np.asarray(generator.predict(inputs(kind), verbose=0), np.float32)


def write(folder):
    import keras

    from facegan.gan import models
    from facegan.io import weights

    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(11)
    for kind, build in zip(KINDS, (models.build_generator, models.build_conditional_generator)):
        generator = build(**TINY)
        generator.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "variance" in w.path
                               else rng.normal(0, 0.3, w.shape).astype(np.float32) for w in generator.weights])
        weights.save_model_h5(generator, os.path.join(folder, f"{keras_backend()}-{kind}.h5"))
        np.save(os.path.join(folder, f"{keras_backend()}-{kind}-by-{keras_backend()}.npy"), faces(generator, kind))


def read(folder):
    from facegan.io import weights

    for name in sorted(os.listdir(folder)):
        writer, _, rest = name.partition("-")
        kind = rest.removesuffix(".h5")
        if name.endswith(".h5") and writer != keras_backend():
            generator = weights.load_model_h5(os.path.join(folder, name), "generator", conditional=kind != "plain")
            np.save(os.path.join(folder, f"{writer}-{kind}-by-{keras_backend()}.npy"), faces(generator, kind))


def main(modes, folder):
    """`modes`: "write", "read", or "write,read" (the last writer reads at once)."""
    for mode in modes.split(","):
        {"write": write, "read": read}[mode](folder)


if __name__ == "__main__":
    main(*sys.argv[1:])
    assert "tensorflow" not in sys.modules or keras_backend() == "tensorflow", "TensorFlow was imported"
