"""`facegan project`: find the z of real faces, the first step of all face math."""
import os

HELP = "find the z of real faces: z vectors, reconstructions and errors"


def add_arguments(parser):
    from facegan.commands.common import add_projection_arguments

    parser.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR", help="face images, or folders of them")
    parser.add_argument("--out", help="folder: NAME.npy (z), NAME.png (the reconstruction), NAME.strip.png "
                                      "(original | G(z) | the refined reconstruction) and errors.csv (default: "
                                      "print the errors only)")
    add_projection_arguments(parser, refine=True)


def run(args):
    import numpy as np

    from facegan.commands.common import load_face_math_models, output_names, projection_settings, read_inputs
    from facegan.gan.prior import draw
    from facegan.io import pictures
    from facegan.io.files import replaced_atomically
    from facegan.latent.projection import project

    generator, discriminator, encoder = load_face_math_models(args.checkpoint)
    faces = read_inputs(args.inputs, generator)
    originals = faces.batch(np.arange(len(faces)))
    result = project(generator, discriminator, originals, encoder=encoder, **projection_settings(args))
    names = output_names(faces.files)
    for name, error in zip(names, result.errors):
        print(f"{name}: mean pixel error {error:.1f} of 255")
    print(f"{len(names)} face(s), mean pixel error {result.errors.mean():.1f} of 255")
    if not args.out:
        return
    rows = [originals] + ([] if result.features is None else [draw(generator, result.codes)]) \
        + [result.reconstructions]
    for number, (name, code) in enumerate(zip(names, result.codes)):
        with replaced_atomically(os.path.join(args.out, f"{name}.npy")) as temporary:
            np.save(temporary, code)
        pictures.save_face(result.reconstructions[number], os.path.join(args.out, f"{name}.png"))
        pictures.save_image(pictures.grid(np.stack([row[number] for row in rows]), columns=len(rows)),
                            os.path.join(args.out, f"{name}.strip.png"))
    with replaced_atomically(os.path.join(args.out, "errors.csv")) as temporary, open(temporary, "w") as f:
        f.write("file,mean_pixel_error\n")
        f.writelines(f"{path},{error:.3f}\n" for path, error in zip(faces.files, result.errors))
    print(f"z vectors, reconstructions and errors.csv -> {os.path.join(os.path.normpath(args.out), '')}")
