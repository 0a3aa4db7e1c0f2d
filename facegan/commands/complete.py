"""`facegan complete`: fill a masked region of faces with what the generator would draw there."""
import os

HELP = "fill a masked region of faces with what the generator would draw"


def add_arguments(parser):
    from facegan.commands.common import add_projection_arguments

    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR", help="face images, or folders of them")
    parser.add_argument("--mask", default="center",
                        help="center, left, right, top, bottom, random (80%% of pixels missing), or a PNG whose "
                             "white pixels mark the hole (default %(default)s)")
    parser.add_argument("--weighting", choices=("uniform", "near-hole"), default="near-hole",
                        help="how known pixels count: all alike, or by how close they lie to the hole, as Yeh "
                             "et al. weigh them (default %(default)s)")
    parser.add_argument("--out", default="completed",
                        help="folder: NAME.png (the completed face) and NAME.strip.png (masked | completed | "
                             "original) (default %(default)s)")
    add_projection_arguments(parser, refine=True)


def run(args):
    import numpy as np

    from facegan.commands.common import load_face_math_models, output_names, projection_settings, read_inputs
    from facegan.io import pictures
    from facegan.latent import inpainting

    generator, discriminator, encoder = load_face_math_models(args.checkpoint)
    known = inpainting.make_mask(args.mask, generator.output_shape[1], args.seed)
    faces = read_inputs(args.inputs, generator)
    originals = faces.batch(np.arange(len(faces)))
    masks = np.repeat(known[None], len(faces), axis=0)
    completed, _projection = inpainting.complete(generator, discriminator, originals, masks, args.weighting,
                                                 encoder=encoder, **projection_settings(args))
    hole_errors = inpainting.hole_errors(completed, originals, masks)
    names = output_names(faces.files)
    for name, hole_error in zip(names, hole_errors):
        print(f"{name}: mean pixel error in the hole {hole_error:.1f} of 255")
    for name, original, face in zip(names, originals, completed):
        pictures.save_face(face, os.path.join(args.out, f"{name}.png"))
        pictures.save_image(pictures.grid(np.stack([original * known, face, original]), columns=3),
                            os.path.join(args.out, f"{name}.strip.png"))
    print(f"{len(names)} completed face(s), mean pixel error in the hole {hole_errors.mean():.1f} of 255 "
          f"-> {os.path.join(os.path.normpath(args.out), '')}")
