"""`facegan math`: arithmetic on faces in z, e.g. the average of one person minus a neutral face plus another."""
import os

from facegan import FaceganError

HELP = "arithmetic on faces in z: averages, differences, sums"


def add_arguments(parser):
    from facegan.commands.common import add_projection_arguments

    parser.add_argument("expression", help='e.g. "mean(alice/*) - mean(neutral/*) + mean(bob/*)"; images, '
                                           "folders, mean(GLOB) and .npy z files, with + - * and / NUMBER")
    parser.add_argument("--out", default="result.png", help="file: the resulting face (default %(default)s); "
                                                            "its z goes beside it as .npy, and a .strip.png "
                                                            "shows each term, then the result")
    add_projection_arguments(parser)


def run(args):
    import numpy as np

    from facegan.commands.common import codes_of_images, load_face_math_models
    from facegan.gan.prior import noise_dim
    from facegan.io import pictures
    from facegan.io.files import replaced_atomically
    from facegan.latent import facemath

    tree = facemath.parse(args.expression)
    generator, discriminator, encoder = load_face_math_models(args.checkpoint)
    dim = noise_dim(generator)
    code_of_image = codes_of_images(facemath.images_needed(tree), generator, discriminator, encoder, args).get
    result = facemath.evaluate(tree, code_of_image, dim)
    if np.ndim(result) == 0:
        raise FaceganError(f"{args.expression!r} is a number, not a face")
    terms = [facemath.evaluate(term, code_of_image, dim) for term in facemath.top_level_terms(tree)]
    terms = [term for term in terms if np.ndim(term) > 0]
    faces = generator.predict(np.stack(terms + [result]).astype(np.float32), verbose=0)
    out = os.path.normpath(args.out)
    stem = os.path.splitext(out)[0]
    pictures.save_face(faces[-1], out)
    pictures.save_image(pictures.grid(faces, columns=len(faces)), f"{stem}.strip.png")
    with replaced_atomically(f"{stem}.npy") as temporary:
        np.save(temporary, result.astype(np.float32))
    outside = np.abs(result) > 1
    print(f"{out} (z in {stem}.npy, terms | result in {stem}.strip.png)"
          + (f"; note: {outside.sum()} of {dim} coordinates lie outside the prior's [-1, 1]"
             if outside.any() else ""))
