"""Face math numbers: GAN projection speed and error by steps, and the VAE comparison the idea asks for.

    python bench/facemath.py --gan checkpoints/dcgan-utkface-64 --vae checkpoints/run-vae [--faces data/]

On held-out faces (by default the bundled sample, which the shipped models never trained on) it prints:
- GAN projection at each --steps: faces/s, the objective per face (contextual + lambda x perceptual), the mean
  absolute pixel error and RMSE (0-255 levels), and sharpness (Laplacian energy relative to the originals);
- the VAE's encode-decode on the same faces: the same error and sharpness figures, and faces/s;
- arithmetic: the "older" direction mean(z of 60-80-year-olds) - mean(z of 20-30-year-olds), computed from
  two disjoint halves of each set; the cosine between the halves' directions says how stable the arithmetic is.
Pictures go to --out: side_by_side.png (rows: originals, GAN projections, VAE reconstructions) and
arithmetic.png (rows: young originals; GAN: projected, projected + older direction; VAE: the same).
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import numpy as np  # noqa: E402

from facegan import checkpoints, pictures  # noqa: E402
from facegan.data import load_faces  # noqa: E402
from facegan.latent import PERCEPTUAL_WEIGHT, project  # noqa: E402
from facegan.pixels import in_levels, to_uint8  # noqa: E402
from facegan.prior import noise_dim as noise_dim_of  # noqa: E402


def sharpness(images):
    """Mean squared Laplacian of the grey image, in 0-255 levels: blur lowers it."""
    grey = to_uint8(images).astype(np.float32).mean(axis=-1)
    laplacian = (grey[:, 1:-1, :-2] + grey[:, 1:-1, 2:] + grey[:, :-2, 1:-1] + grey[:, 2:, 1:-1]
                 - 4 * grey[:, 1:-1, 1:-1])
    return float(np.mean(laplacian ** 2))


def errors(originals, reconstructions):
    difference = in_levels(np.asarray(reconstructions) - originals)
    return float(np.abs(difference).mean()), float(np.sqrt(np.mean(difference ** 2)))


def ages(files):
    return np.array([int(re.match(r"(\d+)_", os.path.basename(f)).group(1)) for f in files])


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", required=True, help="run folder or folder with generator.h5 + discriminator.h5")
    parser.add_argument("--vae", required=True, help="a `train.py --model vae` run folder")
    parser.add_argument("--faces", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--n", type=int, default=16, help="held-out faces for the error figures")
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--set-size", type=int, default=16, help="faces per age group for the arithmetic")
    parser.add_argument("--arithmetic-steps", type=int, default=300)
    parser.add_argument("--out", default="bench/facemath")
    args = parser.parse_args()

    generator_path = checkpoints.find_generator(args.gan)
    generator = checkpoints.load_model_h5(generator_path)
    discriminator = checkpoints.load_model_h5(checkpoints.find_discriminator(generator_path))
    decoder, encoder, _ = checkpoints.load_models(args.vae, ("generator", "encoder"))
    noise_dim = noise_dim_of(generator)
    faces = load_faces(args.faces, generator.output_shape[1], progress=False)
    rng = np.random.default_rng(0)
    chosen = rng.permutation(len(faces))[:args.n]
    originals = faces.batch(chosen)
    print(f"{args.n} held-out faces from {args.faces}; GAN {generator_path}; VAE {args.vae}; "
          f"{os.cpu_count()} CPU cores")
    print(f"originals: sharpness {sharpness(originals):.0f}")

    def vae_encode(images):
        return encoder.predict(images, verbose=0, batch_size=64)[:, :noise_dim]

    print("| method | steps | faces/s | objective per face | mean abs error | RMSE | sharpness vs original |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    gan_pictures = None
    for steps in args.steps:
        started = time.perf_counter()
        result = project(generator, discriminator, originals, steps=steps)
        seconds = time.perf_counter() - started
        decoded = result.reconstructions
        scores = discriminator.predict(decoded, verbose=0)[:, 0]
        objective = (np.abs(decoded - originals).sum(axis=(1, 2, 3))
                     + PERCEPTUAL_WEIGHT * np.log(1 - np.clip(scores, 0, 1 - 1e-6)))
        mean_error, rmse = errors(originals, decoded)
        print(f"| GAN projection | {steps} | {args.n / seconds:.3f} | {objective.mean():.0f} | {mean_error:.1f} | "
              f"{rmse:.1f} | {sharpness(decoded) / sharpness(originals):.2f} |", flush=True)
        if steps == 300 or gan_pictures is None:
            gan_pictures = decoded
    decoder.predict(vae_encode(originals[:1]), verbose=0)  # trace once, outside the timing
    started = time.perf_counter()
    vae_decoded = decoder.predict(vae_encode(originals), verbose=0, batch_size=64)
    seconds = time.perf_counter() - started
    mean_error, rmse = errors(originals, vae_decoded)
    print(f"| VAE encode-decode | 1 pass | {args.n / seconds:.1f} | | {mean_error:.1f} | {rmse:.1f} | "
          f"{sharpness(vae_decoded) / sharpness(originals):.2f} |")
    side = min(args.n, 8)
    rows = np.concatenate([originals[:side], gan_pictures[:side], vae_decoded[:side]])
    pictures.save_image(pictures.grid(rows, columns=side), os.path.join(args.out, "side_by_side.png"))

    # Arithmetic: the "older" direction from two disjoint halves of each age group.
    age = ages(faces.files)
    young = rng.permutation(np.flatnonzero((age >= 20) & (age <= 30)))[:args.set_size]
    old = rng.permutation(np.flatnonzero((age >= 60) & (age <= 80)))[:args.set_size]
    groups = faces.batch(np.concatenate([young, old]))
    gan_codes = project(generator, discriminator, groups, steps=args.arithmetic_steps).codes
    vae_codes = vae_encode(groups)
    half, size = args.set_size // 2, args.set_size
    print(f"\narithmetic: {size} faces aged 20-30, {size} aged 60-80 (ages from the file names)")
    shown = [groups[:6]]
    for name, codes, decode in (("GAN", gan_codes, generator), ("VAE", vae_codes, decoder)):
        young_codes, old_codes = codes[:size], codes[size:]
        first = old_codes[:half].mean(0) - young_codes[:half].mean(0)
        second = old_codes[half:].mean(0) - young_codes[half:].mean(0)
        direction = old_codes.mean(0) - young_codes.mean(0)
        spread = np.linalg.norm(young_codes - young_codes.mean(0), axis=1).mean()
        print(f"{name}: cosine between the two halves' older directions {cosine(first, second):.2f}; "
              f"|direction| {np.linalg.norm(direction):.2f} vs mean distance of a young face to its group mean "
              f"{spread:.2f}")
        aged = np.concatenate([young_codes[:6], young_codes[:6] + direction]).astype(np.float32)
        shown.append(decode.predict(aged, verbose=0))
    pictures.save_image(pictures.grid(np.concatenate(shown), columns=6),
                        os.path.join(args.out, "arithmetic.png"))
    print(f"pictures: {args.out}/side_by_side.png, {args.out}/arithmetic.png")


if __name__ == "__main__":
    main()
