"""What aging changed, moved onto the photo's own features. The change is drawn on G's reconstruction of the photo,
whose eyes, brows and mouth sit a pixel or two from the photo's own; added where it was drawn, its wrinkles and
edges fall beside the features they belong to. A dense optical flow from the photo to the reconstruction
(OpenCV's Farneback) says where each of the photo's pixels is drawn in the reconstruction, and the change is read
from there: on bench/aging.py the photos aged so read older at the same strength, and at the same age keep more
of the person (docs/aging.md).
"""
import numpy as np

from facegan import FaceganError

# cv2.calcOpticalFlowFarneback's settings, for 64x64 faces: 3 levels, each half the last; a 9-pixel window;
# 3 iterations a level; 5-pixel neighbourhoods for the polynomial expansion, smoothed with sigma 1.1
PYRAMID_SCALE, LEVELS, WINDOW, ITERATIONS, NEIGHBOURHOOD, SMOOTHING = 0.5, 3, 9, 3, 5, 1.1


def onto_photos(changes, photos, reconstructions):
    """`changes` (n, h, w, c), drawn on `reconstructions`, moved onto `photos` (all in [-1, 1]): each pixel of
    the photo gets the change at the point of its reconstruction that the flow matches it to."""
    cv2 = _opencv()
    changes = np.asarray(changes, np.float32)
    rows, columns = np.mgrid[0:changes.shape[1], 0:changes.shape[2]].astype(np.float32)
    moved = np.empty_like(changes)
    for index, (photo, reconstruction) in enumerate(zip(_grey(photos), _grey(reconstructions))):
        flow = cv2.calcOpticalFlowFarneback(photo, reconstruction, None, PYRAMID_SCALE, LEVELS, WINDOW,
                                            ITERATIONS, NEIGHBOURHOOD, SMOOTHING, 0)
        moved[index] = np.reshape(cv2.remap(changes[index], columns + flow[..., 0], rows + flow[..., 1],
                                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
                                  changes.shape[1:])
    return moved


def _grey(images):
    """8-bit greyscale, what the flow reads."""
    return np.clip((np.asarray(images, np.float32).mean(axis=-1) + 1.0) * 127.5, 0, 255).astype(np.uint8)


def _opencv():
    try:
        import cv2
    except ImportError:
        raise FaceganError("aging a photo needs OpenCV's optical flow, which the aging extra brings: "
                           "pip install -e \".[aging]\"") from None
    return cv2
