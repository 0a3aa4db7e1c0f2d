"""Where a face crop came from in its photo, so that what aging changed goes back into the photo itself.

The generator works on 64x64 crops, but what aging changes (grey hair, skin, shading) is smooth, while a
photo's identity lives in its fine detail. So the change is drawn at 64x64, enlarged, turned and moved back
along the face's alignment, and added to the photo at its own resolution; only where the crop's edges lie
inside the photo does it fade out, so that no seam shows.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image

BAND_PIXELS = 2**21  # pixels of photo that `add_change` works on at once, in float32
FEATHER = 0.1  # of the crop's side: how far in from a crop edge a change fades in, for faces found in photos


@dataclass(frozen=True)
class Placement:
    """The crop as a square in the photo: unit coordinates (u, v) of the crop sit at
    origin + u * across + v * down, in pixels of a photo of `frame` (width, height)."""
    frame: tuple
    origin: tuple
    across: tuple
    down: tuple
    feather: float = 0.0

    def at_size(self, width, height):
        """The same placement in pixels of the photo decoded at another size."""
        scale_x, scale_y = width / self.frame[0], height / self.frame[1]
        scaled = [(x * scale_x, y * scale_y) for x, y in (self.origin, self.across, self.down)]
        return Placement((width, height), *scaled, self.feather)

    def unit_to_photo(self):
        """(2x2 matrix, offset) taking unit crop coordinates to photo pixels."""
        return np.array([self.across, self.down], np.float64).T, np.array(self.origin, np.float64)


def centre_square(width, height):
    """The placement of the centre square crop that `data.centre_face` takes from a photo of width x height."""
    side = min(width, height)
    return Placement((width, height), ((width - side) / 2, (height - side) / 2), (side, 0.0), (0.0, side))


def _warp(channels, placement, size):
    """Float images in unit-square crop coordinates (n, s, s) -> the photo's frame, 0 outside the crop."""
    matrix, offset = placement.unit_to_photo()
    inverse = np.linalg.inv(matrix) * channels.shape[-1]  # photo pixels -> crop pixels
    shift = -inverse @ offset
    coefficients = (inverse[0, 0], inverse[0, 1], shift[0], inverse[1, 0], inverse[1, 1], shift[1])
    return np.stack([np.asarray(Image.fromarray(np.float32(channel), "F").transform(
        size, Image.AFFINE, coefficients, resample=Image.BILINEAR, fillcolor=0.0)) for channel in channels])


def _fade(side, feather):
    """1 inside the crop, ramping to 0 over `feather` of the side at its edges (all 1 for feather 0)."""
    if not feather:
        return np.ones((side, side), np.float32)
    distance = np.minimum(np.arange(side) + 0.5, side - 0.5 - np.arange(side)) / (feather * side)
    ramp = np.clip(distance, 0, 1)
    ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no visible edge where the fade begins
    return np.float32(np.minimum.outer(ramp, ramp))


def _box(placement):
    """(left, top, right, bottom): the photo's pixels the crop covers, a pixel of margin for the resampling,
    inside the photo."""
    matrix, offset = placement.unit_to_photo()
    corners = offset + np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) @ matrix.T
    left, top = np.maximum(np.floor(corners.min(axis=0)) - 1, 0).astype(int)
    right, bottom = np.minimum(np.ceil(corners.max(axis=0)) + 1, placement.frame).astype(int)
    return left, top, max(right, left), max(bottom, top)


def add_change(photo, placement, change):
    """The photo (h, w, 3) uint8 plus `change` (s, s, 3), a difference of faces in [-1, 1], put back where the
    crop came from; uint8, the photo's size. The float work (40 bytes a pixel) covers the crop's box only, a band
    of BAND_PIXELS at a time: a photo of 40 megapixels costs a copy of itself and 80 MB, not 1.6 GB."""
    height, width = photo.shape[:2]
    placement = placement.at_size(width, height)
    left, top, right, bottom = _box(placement)
    side = change.shape[0]
    layers = np.concatenate([np.moveaxis(np.asarray(change, np.float32), -1, 0),
                             _fade(side, placement.feather)[None]])
    aged = np.array(photo, np.uint8)
    rows = max(1, BAND_PIXELS // max(right - left, 1))
    for band in range(top, bottom, rows):
        end = min(band + rows, bottom)
        box = Placement((right - left, end - band), (placement.origin[0] - left, placement.origin[1] - band),
                        placement.across, placement.down, placement.feather)
        warped = _warp(layers, box, box.frame)
        delta = np.moveaxis(warped[:3] * warped[3:], 0, -1) * 127.5
        region = aged[band:end, left:right]
        aged[band:end, left:right] = np.uint8(np.clip(np.round(region.astype(np.float32) + delta), 0, 255))
    return aged


def crop(photo, placement, size):
    """The crop of `placement` from the photo at size x size, uint8 (the face as the models frame it)."""
    height, width = photo.shape[:2]
    matrix, offset = placement.at_size(width, height).unit_to_photo()
    matrix = matrix / size  # crop pixels -> photo pixels
    coefficients = (matrix[0, 0], matrix[0, 1], offset[0], matrix[1, 0], matrix[1, 1], offset[1])
    picture = Image.fromarray(photo).transform((size, size), Image.AFFINE, coefficients, resample=Image.BICUBIC)
    return np.asarray(picture, np.uint8)
