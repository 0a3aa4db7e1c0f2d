"""What people would rather look at than read: image grids and the loss plot."""
import math
import os

import numpy as np
from PIL import Image

from facegan import FaceganError
from facegan.io.files import replaced_atomically
from facegan.io.pixels import to_uint8


def grid(images, columns=None, padding=2):
    """One picture of many faces, `columns` across (default: as square as possible)."""
    pixels = to_uint8(images)
    count, height, width, _ = pixels.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    sheet = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding, 3), 255, np.uint8)
    for index, face in enumerate(pixels):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        sheet[top:top + height, left:left + width] = face
    return Image.fromarray(sheet)


def picture_format(path):
    """PIL's format for `path`, from its extension; a one-line error when it has none PIL can write, so that a
    command can check its --out before the work rather than fail after it."""
    image_format = Image.registered_extensions().get(os.path.splitext(path)[1].lower())
    if image_format not in Image.SAVE:
        raise FaceganError(f"{path}: not a picture file name (end it in .png or .jpg)")
    return image_format


def save_image(image, path):
    """Saves a PIL image through a temporary file, so a reader never sees half a PNG."""
    image_format = picture_format(path)
    with replaced_atomically(path) as temporary:
        image.save(temporary, format=image_format)


def save_face(face, path):
    """One face, (size, size, 3) in [-1, 1], as a PNG of exactly its pixels."""
    save_image(grid(face[None], padding=0), path)


def plot_history(rows, steps_per_epoch, path, quality=()):
    """Losses and D's scores against training steps, with epochs on a second axis; FID too, when measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array([row["step"] for row in rows])
    names = [name for name in rows[0] if name not in ("epoch", "step", "images_per_second")]
    score_names = [name for name in names if name.startswith("D(")]  # D's mean scores, on a 0-1 axis of their own
    loss_names = [name for name in names if name not in score_names]
    panels = 1 + bool(score_names) + bool(quality)
    figure, axes = plt.subplots(panels, 1, figsize=(9, 3 * panels + 0.5), sharex=True, squeeze=False)
    losses, scores = axes[0, 0], axes[1 if score_names else 0, 0]
    if quality:
        axis = axes[-1, 0]
        axis.plot([row["step"] for row in quality], [row["fid"] for row in quality], "o-", label="FID")
        axis.set_ylabel("FID (lower is better)")
        axis.legend(loc="upper right")
        axis.grid(alpha=0.3)
    for axis, axis_names in ((losses, loss_names), (scores, score_names)):
        for name in axis_names:
            values = np.array([row[name] for row in rows])
            axis.plot(steps, values, alpha=0.25, linewidth=0.8)
            axis.plot(steps, _smooth(values), label=name, color=axis.lines[-1].get_color())
        axis.legend(loc="upper right")
        axis.grid(alpha=0.3)
    losses.set_ylabel("loss")
    if score_names:
        scores.set_ylabel("mean score")
        scores.set_ylim(0, 1)
    else:
        losses.set_yscale("log")  # a VAE's reconstruction and KL terms differ by orders of magnitude
    axes[-1, 0].set_xlabel("step")
    epochs = losses.secondary_xaxis("top", functions=(lambda s: s / steps_per_epoch, lambda e: e * steps_per_epoch))
    epochs.set_xlabel("epoch")
    figure.tight_layout()
    with replaced_atomically(path) as temporary:
        figure.savefig(temporary, dpi=100)
    plt.close(figure)


def _smooth(values, window=25):
    if len(values) < window:
        return values
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, values[0]), values])
    return np.convolve(padded, kernel, mode="valid")


def save_gif(images, path, seconds_per_frame=0.08):
    """An endless animation that plays forwards then backwards, so a morph never jumps back to its start."""
    frames = [Image.fromarray(face) for face in to_uint8(images)]
    frames += frames[-2:0:-1]
    with replaced_atomically(path) as temporary:
        frames[0].save(temporary, save_all=True, append_images=frames[1:], loop=0,
                       duration=int(seconds_per_frame * 1000))
