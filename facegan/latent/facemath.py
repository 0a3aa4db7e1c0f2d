"""Face math: linear algebra on z vectors, the "platonic ideal" of a person and morphs between faces.

An expression mixes images (projected into z first), folders and saved z files (`.npy`):

    mean(alice/*) - mean(neutral/*) + mean(bob/*)        0.5 * a.jpg + 0.5 * b.jpg        z/a.jpg.npy * 2

`mean(PATTERN)` averages every face the glob pattern matches (a folder stands for all images in it); a match
that holds `.npy` files uses only those, so `mean(z/*)` on a `facegan project` output folder averages the saved
z vectors, not the pictures beside them. `/` divides only with a space after it (else it is part of a path), and
`-` between two names needs spaces around it.
Results are not clipped to the cube: arithmetic may leave it, as in Radford et al.'s vector arithmetic.
"""
import glob
import os
import re

import numpy as np

from facegan import FaceganError
from facegan.io.data import IMAGE_EXTENSIONS, find_images

_TOKEN = re.compile(r"""\s*(?:
    (?P<mean>mean\((?P<pattern>[^)]+)\))
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?)(?![\w./])
  | (?P<operator>[-+*()]|/(?=\s))
  | (?P<path>[^\s()+*]+)
)""", re.VERBOSE)


def tokenize(expression):
    tokens, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise FaceganError(f"cannot read the expression from here: {expression[position:]!r}")
        position = match.end()
        kind = next(name for name in ("mean", "number", "operator", "path") if match.group(name))
        tokens.append((kind, match.group("pattern") if kind == "mean" else match.group(kind)))
    return tokens


class _Parser:
    """expression := term (('+' | '-') term)* ; term := factor (('*' | '/') factor)* ;
    factor := '-' factor | '(' expression ')' | number | path | mean(pattern)"""

    def __init__(self, expression):
        self.expression = expression
        self.tokens = tokenize(expression)
        self.position = 0

    def parse(self):
        if not self.tokens:
            raise FaceganError("the expression is empty")
        tree = self.sum()
        if self.position < len(self.tokens):
            raise FaceganError(f"unexpected {self.tokens[self.position][1]!r} in {self.expression!r}")
        return tree

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        if token[0] is None:
            raise FaceganError(f"{self.expression!r} ends too early")
        self.position += 1
        return token

    def sum(self):
        tree = self.product()
        while self.peek() in (("operator", "+"), ("operator", "-")):
            operator = self.take()[1]
            tree = ("add" if operator == "+" else "subtract", tree, self.product())
        return tree

    def product(self):
        tree = self.factor()
        while self.peek() in (("operator", "*"), ("operator", "/")):
            operator = self.take()[1]
            tree = ("multiply" if operator == "*" else "divide", tree, self.factor())
        return tree

    def factor(self):
        kind, text = self.take()
        if (kind, text) == ("operator", "-"):
            return ("multiply", ("number", -1.0), self.factor())
        if (kind, text) == ("operator", "("):
            tree = self.sum()
            if self.take() != ("operator", ")"):
                raise FaceganError(f"missing ')' in {self.expression!r}")
            return tree
        if kind == "number":
            return ("number", float(text))
        if kind == "mean":
            return ("mean", text)
        if kind == "path":
            return ("path", text)
        raise FaceganError(f"unexpected {text!r} in {self.expression!r}")


def parse(expression):
    """The expression as a tree of tuples: ("add", a, b), ("mean", pattern), ("path", p), ("number", x) ..."""
    return _Parser(expression).parse()


def sources(pattern_or_path, is_pattern=False):
    """The files one operand stands for: a list of `.npy` z files or a list of images."""
    if is_pattern:
        matches = sorted(glob.glob(os.path.expanduser(pattern_or_path), recursive=True))
        where = f"mean({pattern_or_path})"
    else:
        if not os.path.exists(pattern_or_path):
            raise FaceganError(f"{pattern_or_path}: no such file or folder")
        matches = [pattern_or_path]
        where = pattern_or_path
    files = []
    for match in matches:
        files += find_images(match) if os.path.isdir(match) else [match]
    z_files = [f for f in files if f.endswith(".npy")]
    if z_files:
        return z_files
    images = [f for f in files if f.lower().endswith(IMAGE_EXTENSIONS)]
    if not images:
        raise FaceganError(f"{where}: no images or .npy z files there")
    return images


def images_needed(tree):
    """Every image the expression needs projected, so that all of them are projected in one batch."""
    kind = tree[0]
    if kind in ("mean", "path"):
        return [f for f in sources(tree[1], kind == "mean") if not f.endswith(".npy")]
    if kind == "number":
        return []
    return images_needed(tree[1]) + images_needed(tree[2])


def load_code(path, noise_dim):
    try:
        code = np.load(path)
    except (OSError, ValueError) as problem:
        raise FaceganError(f"{path}: not a saved z vector ({problem})") from None
    if code.size != noise_dim:
        raise FaceganError(f"{path}: holds {code.size} numbers, but the generator takes z of {noise_dim}")
    return code.reshape(noise_dim).astype(np.float32)


def evaluate(tree, code_of_image, noise_dim):
    """The z vector the expression stands for; `code_of_image(path)` gives a projected image's z, or None
    for an image that could not be read."""
    kind = tree[0]
    if kind == "number":
        return tree[1]
    if kind in ("mean", "path"):
        files = sources(tree[1], kind == "mean")
        codes = [load_code(f, noise_dim) if f.endswith(".npy") else code_of_image(f) for f in files]
        usable = [code for code in codes if code is not None]  # unusable images were skipped with a warning
        if not usable:
            raise FaceganError(f"{tree[1]}: no usable image there, so it cannot be part of the expression")
        return np.mean(usable, axis=0)
    left, right = evaluate(tree[1], code_of_image, noise_dim), evaluate(tree[2], code_of_image, noise_dim)
    left_is_face, right_is_face = np.ndim(left) > 0, np.ndim(right) > 0
    if kind in ("add", "subtract"):
        if left_is_face != right_is_face:
            raise FaceganError("a number cannot be added to a face: scale faces with *, e.g. 0.5 * a.jpg")
        return left + right if kind == "add" else left - right
    if kind == "multiply":
        if left_is_face and right_is_face:
            raise FaceganError("two faces cannot be multiplied: only a face and a number")
        return left * right
    if right_is_face:
        raise FaceganError("cannot divide by a face: only by a number")
    if right == 0:
        raise FaceganError("division by zero")
    return left / right


def top_level_terms(tree):
    """The operands a reader sees in the expression, for the picture strip: a - b + c -> [a, b, c]."""
    if tree[0] in ("add", "subtract"):
        return top_level_terms(tree[1]) + top_level_terms(tree[2])
    return [tree]


def _gaussian(codes):
    """Uniform(-1, 1) coordinates -> standard normal ones, through the normal's inverse CDF."""
    import keras

    unit = np.clip((np.asarray(codes, np.float32) + 1.0) / 2.0, 1e-6, 1 - 1e-6)
    return np.sqrt(2.0) * keras.ops.convert_to_numpy(keras.ops.erfinv(2.0 * unit - 1.0))


def _uniform(gaussian_codes):
    import keras

    return keras.ops.convert_to_numpy(keras.ops.erf(np.asarray(gaussian_codes, np.float32) / np.sqrt(2.0)))


def interpolate(start, end, steps, method="linear"):
    """`steps` codes from `start` to `end`, both included.

    "linear": the straight line in z. Its midpoints are averages of uniform variables, so they crowd towards
    the cube's centre, where faces look bland. "cube": every coordinate is mapped to a standard normal through
    the inverse CDF, mixed there with weights (1 - t, t) / sqrt((1 - t)^2 + t^2), which keeps it standard
    normal, and mapped back: every frame is as typical a draw from the uniform prior as the two ends."""
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    if method == "linear":
        return (1 - weights) * start[None] + weights * end[None]
    if method == "cube":
        mixed = ((1 - weights) * _gaussian(start)[None] + weights * _gaussian(end)[None])
        return _uniform(mixed / np.sqrt((1 - weights) ** 2 + weights ** 2))
    raise FaceganError(f"unknown interpolation {method!r}: use linear or cube")


def path_through(codes, steps, method="linear"):
    """A morph through several faces in order: `steps` frames per leg, no frame repeated."""
    legs = [interpolate(a, b, steps, method) for a, b in zip(codes[:-1], codes[1:])]
    return np.concatenate([legs[0]] + [leg[1:] for leg in legs[1:]])
