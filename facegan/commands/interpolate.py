"""`facegan interpolate`: a morph between faces through z, as a GIF, a strip or a folder of frames."""
import os

from facegan import FaceganError

HELP = "morph between faces through z"


def add_arguments(parser):
    from facegan.commands.common import add_projection_arguments

    parser.add_argument("ends", nargs="+", metavar="FACE",
                        help="two or more images or .npy z files; the morph visits them in order")
    parser.add_argument("--out", default="morph.gif",
                        help="file NAME.gif (an animation) or NAME.png (one row of frames), or a folder (one "
                             "PNG per frame) (default %(default)s)")
    parser.add_argument("--frames", type=int, default=16,
                        help="frames from one face to the next, both ends included (default %(default)s)")
    parser.add_argument("--method", choices=("linear", "cube"), default="linear",
                        help="linear: a straight line in z; cube: keeps every frame a typical draw of the "
                             "uniform prior (default %(default)s)")
    add_projection_arguments(parser)


def run(args):
    import numpy as np

    from facegan.commands.common import codes_of_images, load_face_math_models
    from facegan.gan.prior import noise_dim
    from facegan.io import pictures
    from facegan.latent import facemath

    if len(args.ends) < 2:
        raise FaceganError("interpolate needs at least two faces")
    if args.frames < 2:
        raise FaceganError(f"--frames must be at least 2, not {args.frames}")
    for end in args.ends:
        if not os.path.isfile(end):
            raise FaceganError(f"{end}: no such file (give images or .npy z files)")
    generator, discriminator, encoder = load_face_math_models(args.checkpoint)
    dim = noise_dim(generator)
    images = [end for end in args.ends if not end.endswith(".npy")]
    code_of_image = codes_of_images(images, generator, discriminator, encoder, args)
    ends = [facemath.load_code(end, dim) if end.endswith(".npy") else code_of_image[end] for end in args.ends]
    if any(end is None for end in ends):
        raise FaceganError("every face of a morph must be a usable image or .npy file (see the warning above)")
    codes = facemath.path_through(np.stack(ends), args.frames, args.method)
    frames = generator.predict(codes.astype(np.float32), verbose=0)
    out = os.path.normpath(args.out)
    extension = os.path.splitext(out)[1].lower()
    if extension == ".gif":
        pictures.save_gif(frames, out)
    elif extension in (".png", ".jpg", ".jpeg"):
        pictures.save_image(pictures.grid(frames, columns=args.frames), out)
    else:
        for index, frame in enumerate(frames):
            pictures.save_face(frame, os.path.join(out, f"frame_{index:04d}.png"))
        out = os.path.join(out, "")
    print(f"{len(frames)} frames ({args.method}) -> {out}")
