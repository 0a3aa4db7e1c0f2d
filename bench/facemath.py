"""Face math numbers: how fast and how well projection finds held-out faces' z, with and without the latent
encoder, how often completion keeps the person, and (with --vae) the VAE comparison the idea asks for.

    python bench/facemath.py [--gan checkpoints/dcgan-utkface-64] [--faces data/] [--n 32] [--vae VAE_RUN]
                             [--tables projection completion] [--completion former 30+0:uniform ... defaults]

On held-out faces (by default the bundled sample, which the shipped models never trained on) it prints, for each
projection setting (the former defaults, 300 steps from 3 random starts; the encoder's guess alone; --steps
from the guess, z alone; `facegan project`'s defaults, 30 steps and then --refine-steps refining G's feature map):
- faces/s, the mean absolute pixel error and RMSE (0-255 levels), sharpness (Laplacian energy relative to the
  originals), and the share of projections that dlib's face recognition (the outside judge, never part of the
  method) reads as the same person as the original;
- `complete --mask center` at each --completion setting (by default: the former defaults, uniform and near-hole
  weights from the encoder's guess, z alone, and `facegan complete`'s defaults; every row Poisson-blended): the
  same-person share of the completed faces, the mean error in the hole, faces/s;
- with --vae, the VAE's encode-decode on the same faces and the arithmetic comparison: the "older" direction
  mean(z of 60-80-year-olds) - mean(z of 20-30-year-olds) from two disjoint halves of each set; the cosine
  between the halves' directions says how stable the arithmetic is.
An age-conditional --gan (checkpoints/aging-utkface-64, which never trained on data/) projects each face at its
own age group, the age from its file name (or the folder's labels.csv): faces that G never saw, for a plain
generator that did. Pictures go to --out: side_by_side.png (rows: originals, each projection setting in the
table's order[, the VAE's reconstructions]) and,
with --vae, arithmetic.png (rows: young originals; GAN: projected, projected + older direction; VAE: the same).
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import numpy as np  # noqa: E402

from facegan.commands import complete as complete_command  # noqa: E402
from facegan.gan.models import is_conditional  # noqa: E402
from facegan.gan.prior import age_conditions, noise_dim as noise_dim_of  # noqa: E402
from facegan.io import checkpoints, model_folder, pictures  # noqa: E402
from facegan.io.data import load_faces  # noqa: E402
from facegan.io.pixels import in_levels, to_uint8  # noqa: E402
from facegan.latent import inpainting  # noqa: E402
from facegan.latent.defaults import REFINE_STEPS, RESTARTS, STEPS, STEPS_FROM_ENCODER  # noqa: E402
from facegan.latent.projection import project  # noqa: E402
from facegan.metrics import judges  # noqa: E402

FORMER_DEFAULTS = {"encoder": None, "steps": STEPS, "restarts": RESTARTS}


def sharpness(images):
    """Mean squared Laplacian of the grey image, in 0-255 levels: blur lowers it."""
    grey = to_uint8(images).astype(np.float32).mean(axis=-1)
    laplacian = (grey[:, 1:-1, :-2] + grey[:, 1:-1, 2:] + grey[:, :-2, 1:-1] + grey[:, 2:, 1:-1]
                 - 4 * grey[:, 1:-1, 1:-1])
    return float(np.mean(laplacian ** 2))


def errors(originals, reconstructions):
    difference = in_levels(np.asarray(reconstructions) - originals)
    return float(np.abs(difference).mean()), float(np.sqrt(np.mean(difference ** 2)))


def same_person(originals, others):
    """The share of pairs that dlib reads as one person, and the mean embedding distance."""
    distances = judges.identity_distances(originals, others)
    return float(np.mean(distances < judges.SAME_PERSON_THRESHOLD)), float(distances.mean())


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def settings_to_compare(encoder, steps, refine_steps):
    """(label, project's keyword arguments): the former defaults, then what the encoder allows: z alone (what
    math, interpolate and age use), then the feature map refined after the default z search."""
    rows = [("300 steps from 3 random starts (former defaults)", FORMER_DEFAULTS)]
    if encoder is None:
        return rows
    rows.append(("the encoder's guess alone", {"encoder": encoder, "steps": 0}))
    for count in steps:
        rows.append((f"{count} steps from the encoder's guess, z alone", {"encoder": encoder, "steps": count}))
    for count in refine_steps:
        label = "defaults of `facegan project`: " if count == REFINE_STEPS else ""
        rows.append((f"{label}{STEPS_FROM_ENCODER} steps from the encoder's guess, then {count} refining the "
                     "feature map", {"encoder": encoder, "refine_steps": count}))
    return rows


def compare_projections(generator, discriminator, originals, rows, conditions):
    """One table row per setting; returns {label: reconstructions}."""
    print("| projection | faces/s | mean abs error | RMSE | sharpness vs original | same person | "
          "identity distance |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    reconstructions = {}
    for label, settings in rows:
        started = time.perf_counter()
        decoded = project(generator, discriminator, originals, conditions=conditions, **settings).reconstructions
        seconds = time.perf_counter() - started
        mean_error, rmse = errors(originals, decoded)
        share, distance = same_person(originals, decoded)
        print(f"| {label} | {len(originals) / seconds:.2f} | {mean_error:.1f} | {rmse:.1f} | "
              f"{sharpness(decoded) / sharpness(originals):.2f} | {share:.0%} | {distance:.3f} |", flush=True)
        reconstructions[label] = decoded
    return reconstructions


def complete_defaults():
    """`facegan complete`'s own defaults, read from its parser: (z steps from the encoder's guess, refining steps,
    weighting)."""
    parser = argparse.ArgumentParser()
    complete_command.add_arguments(parser)
    args = parser.parse_args(["FACE"])
    return args.steps or STEPS_FROM_ENCODER, args.refine_steps, args.weighting


def completion_setting(text):
    """A --completion row: "former" (300 steps from 3 random starts, uniform weights), "defaults" (`facegan
    complete`'s), or STEPS+REFINE_STEPS:WEIGHTING, e.g. 30+60:near-hole."""
    if text == "former":
        return text
    if text == "defaults":
        return complete_defaults()
    match = re.fullmatch(r"(\d+)\+(\d+):(uniform|near-hole)", text)
    if not match:
        raise ValueError(f"--completion {text!r}: use former, defaults or STEPS+REFINE_STEPS:WEIGHTING "
                         "(uniform or near-hole), e.g. 30+60:near-hole")
    return int(match[1]), int(match[2]), match[3]


def completion_row(setting, encoder, defaults):
    """(label, `inpainting.complete`'s keyword arguments) of a --completion setting, marked when it is
    `defaults` (complete_defaults()); None when it needs the encoder and there is none."""
    if setting == "former":
        return "300 steps from 3 random starts, uniform weights (former defaults)", \
            dict(FORMER_DEFAULTS, weighting="uniform")
    if encoder is None:
        return None
    steps, refine_steps, weighting = setting
    label = f"{steps} steps from the encoder's guess, {weighting} weights, " + \
        (f"then {refine_steps} refining the feature map" if refine_steps else "z alone")
    if setting == defaults:
        label = f"**defaults: {label}**"
    return label, {"encoder": encoder, "steps": steps, "refine_steps": refine_steps, "weighting": weighting}


def compare_completions(generator, discriminator, originals, rows, conditions):
    """`complete --mask center` at each setting of `rows`, (label, keyword arguments)."""
    known = np.repeat(inpainting.make_mask("center", generator.output_shape[1])[None], len(originals), axis=0)
    print("\n| complete --mask center | faces/s | mean abs error in the hole | same person | identity distance |")
    print("| --- | --- | --- | --- | --- |")
    for label, settings in rows:
        started = time.perf_counter()
        completed, _projection = inpainting.complete(generator, discriminator, originals, known,
                                                     conditions=conditions, **settings)
        seconds = time.perf_counter() - started
        share, distance = same_person(originals, completed)
        hole_error = inpainting.hole_errors(completed, originals, known).mean()
        print(f"| {label} | {len(originals) / seconds:.2f} | {hole_error:.1f} | {share:.0%} | {distance:.3f} |",
              flush=True)


def compare_with_vae(args, generator, discriminator, faces, originals, rng):
    """The VAE's encode-decode on the same faces, and the arithmetic of both models; returns the VAE's faces."""
    decoder, vae_encoder, _ = checkpoints.load_checkpoint(args.vae, ("generator", "encoder"))
    noise_dim = noise_dim_of(generator)

    def vae_encode(images):
        return vae_encoder.predict(images, verbose=0, batch_size=64)[:, :noise_dim]

    decoder.predict(vae_encode(originals[:1]), verbose=0)  # trace once, outside the timing
    started = time.perf_counter()
    vae_decoded = decoder.predict(vae_encode(originals), verbose=0, batch_size=64)
    seconds = time.perf_counter() - started
    mean_error, rmse = errors(originals, vae_decoded)
    share, distance = same_person(originals, vae_decoded)
    print(f"| VAE encode-decode ({args.vae}) | {len(originals) / seconds:.1f} | {mean_error:.1f} | {rmse:.1f} | "
          f"{sharpness(vae_decoded) / sharpness(originals):.2f} | {share:.0%} | {distance:.3f} |")

    # Arithmetic: the "older" direction from two disjoint halves of each age group.
    age = faces.ages
    young = rng.permutation(np.flatnonzero((age >= 20) & (age <= 30)))[:args.set_size]
    old = rng.permutation(np.flatnonzero((age >= 60) & (age <= 80)))[:args.set_size]
    groups = faces.batch(np.concatenate([young, old]))
    gan_codes = project(generator, discriminator, groups, **FORMER_DEFAULTS).codes
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
    pictures.save_image(pictures.grid(np.concatenate(shown), columns=6), os.path.join(args.out, "arithmetic.png"))
    return vae_decoded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", default=model_folder.SHIPPED_DIR,
                        help="run folder or folder with generator.h5 + discriminator.h5 (+ latent_encoder.h5) "
                             "(default: the shipped model)")
    parser.add_argument("--vae", help="a `train.py --model vae` run folder to compare with (default: none)")
    parser.add_argument("--faces", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--n", type=int, default=32, help="held-out faces (default %(default)s)")
    parser.add_argument("--offset", type=int, default=0,
                        help="skip this many faces of the same shuffled order first: --offset 32 judges faces "
                             "that the default 32 leave out (default %(default)s)")
    parser.add_argument("--steps", type=int, nargs="*", default=[STEPS_FROM_ENCODER],
                        help="steps from the encoder's guess to compare, z alone (default %(default)s)")
    parser.add_argument("--refine-steps", type=int, nargs="*", default=[REFINE_STEPS],
                        help="steps refining the feature map after the default z search (default %(default)s)")
    parser.add_argument("--tables", nargs="+", choices=("projection", "completion"),
                        default=["projection", "completion"], help="which tables to print (default: both)")
    parser.add_argument("--completion", nargs="+",
                        default=["former", "30+0:uniform", "30+0:near-hole", "defaults"],
                        help="`complete --mask center` rows: former, defaults (`facegan complete`'s), or "
                             "STEPS+REFINE_STEPS:WEIGHTING (uniform or near-hole), e.g. 30+60:near-hole "
                             "(default: %(default)s)")
    parser.add_argument("--set-size", type=int, default=16, help="faces per age group for the arithmetic")
    parser.add_argument("--out", default="bench/facemath")
    args = parser.parse_args()
    try:
        completions = [completion_setting(text) for text in args.completion]
    except ValueError as problem:
        parser.error(str(problem))

    folder = model_folder.ModelFolder(args.gan)
    generator_path = folder.generator
    generator = folder.load_generator()
    discriminator = folder.load_discriminator(generator)
    encoder = folder.load_encoder(required=False)
    conditional = is_conditional(generator)
    if conditional and args.vae:
        parser.error("--vae compares with a plain --gan only")
    faces = load_faces(args.faces, generator.output_shape[1], progress=False)
    if conditional or args.vae:
        faces = faces.with_ages(args.faces)
    rng = np.random.default_rng(0)
    chosen = rng.permutation(len(faces))[args.offset:args.offset + args.n]
    originals = faces.batch(chosen)
    conditions = age_conditions(faces.ages[chosen]) if conditional else None
    print(f"{args.n} held-out faces from {args.faces}; GAN {generator_path}"
          f"{', each at its own age' if conditional else ''}; {'with' if encoder else 'without'} a latent encoder; "
          f"{os.cpu_count()} CPU cores")
    print(f"originals: sharpness {sharpness(originals):.0f}")
    rows = [originals]
    if "projection" in args.tables:
        reconstructions = compare_projections(generator, discriminator, originals,
                                              settings_to_compare(encoder, args.steps, args.refine_steps),
                                              conditions)
        rows += reconstructions.values()
    if args.vae:
        rows.append(compare_with_vae(args, generator, discriminator, faces, originals, rng))
    if "completion" in args.tables:
        defaults = complete_defaults()
        compare_completions(generator, discriminator, originals,
                            [row for row in (completion_row(setting, encoder, defaults) for setting in completions)
                             if row],
                            conditions)
    side = min(args.n, 8)
    pictures.save_image(pictures.grid(np.concatenate([row[:side] for row in rows]), columns=side),
                        os.path.join(args.out, "side_by_side.png"))
    print(f"pictures: {args.out}/side_by_side.png" + (f", {args.out}/arithmetic.png" if args.vae else ""))


if __name__ == "__main__":
    main()
