"""Training throughput of the faithful recipe: images/s, achieved GFLOP/s against the machine's matmul rate.

    python bench/train_throughput.py [--data data/] [--steps 12] [--batch-size 64] [--image-size 64]
                                     [--precision bf16] [--diffaugment] [--r1-gamma G]
                                     [--distribute mirrored|multi-worker]

With --distribute, --batch-size is the global batch; it also times one replica alone (the same per-replica
batch on one device) and prints images/s per replica, in total, and the scaling efficiency: total / (replicas x
one replica's). On a CPU, FACEGAN_LOGICAL_CPUS=2 makes 2 replicas (they share the cores: a check, not a speed-up).

Runs on any Keras 3 backend (KERAS_BACKEND=jax on a GPU). FLOPs are counted analytically from the layers, for
exactly what one recipe step computes (see `step_flops`); elementwise work (BN, activations, Adam) is left out,
so the GFLOP/s figure is a slight underestimate.
"""
import argparse
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import facegan  # noqa: E402,F401  (sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from facegan.gan import distribute  # noqa: E402
from facegan.gan.augment import POLICIES  # noqa: E402
from facegan.gan.config import PRECISIONS, R1_INTERVAL, STRATEGIES  # noqa: E402
from facegan.gan.models import build_discriminator, build_generator  # noqa: E402
from facegan.gan.recipe import DCGAN  # noqa: E402
from facegan.io.data import load_faces  # noqa: E402


def layer_flops(layer):
    """Multiply-adds x 2 of one forward pass, per image."""
    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, height, width, channels = layer.input.shape  # every input pixel scatters a k x k x filters patch
        return 2 * height * width * channels * layer.filters * np.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Conv2D):
        _, height, width, filters = layer.output.shape
        return 2 * height * width * layer.input.shape[-1] * filters * np.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def step_flops(generator, discriminator, batch_size):
    """One recipe step: D forward and backward on 2B images (no input gradient for its first layer), G forward
    on B fakes; then G forward and backward on B, D forward and input gradient only (D frozen: no weight
    gradients). A backward pass costs one forward for the weight gradient and one for the input gradient."""
    generator_forward = sum(map(layer_flops, generator.layers))
    discriminator_forward = sum(map(layer_flops, discriminator.layers))
    generator_first = layer_flops(generator.layers[0])
    discriminator_first = layer_flops(discriminator.layers[0])
    discriminator_step = generator_forward + 2 * (3 * discriminator_forward - discriminator_first)
    generator_step = 3 * generator_forward - generator_first + 2 * discriminator_forward
    return batch_size * (discriminator_step + generator_step), generator_forward, discriminator_forward


def matmul_gflops(size=2048, repeats=10):
    """The best float32 matrix-multiply rate of this machine: numpy's BLAS and the Keras backend's."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    rates = {}
    a @ a
    started = time.perf_counter()
    for _ in range(repeats):
        a @ a
    rates["numpy"] = repeats * 2 * size**3 / (time.perf_counter() - started) / 1e9
    tensor = keras.ops.convert_to_tensor(a)
    keras.ops.convert_to_numpy(keras.ops.matmul(tensor, tensor))
    started = time.perf_counter()
    for _ in range(repeats):
        product = keras.ops.matmul(tensor, tensor)
    keras.ops.convert_to_numpy(product)
    rates[keras.backend.backend()] = repeats * 2 * size**3 / (time.perf_counter() - started) / 1e9
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--precision", choices=tuple(PRECISIONS), default="float32")
    parser.add_argument("--diffaugment", action="store_true", help="with all three DiffAugment policies")
    parser.add_argument("--r1-gamma", type=float, default=0.0,
                        help=f"with lazy R1 (one update every {R1_INTERVAL} D steps), timed apart: give --warmup "
                             f"{R1_INTERVAL} and --steps {R1_INTERVAL}, so that its tracing is in the warm-up and the "
                             "timed steps hold one")
    parser.add_argument("--distribute", choices=STRATEGIES, default="none")
    args = parser.parse_args()
    replicas = distribute.replicas_for(args.distribute)  # before TensorFlow runs anything
    replicas.check_batch(args.batch_size)

    faces = load_faces(args.data, args.image_size)
    keras.config.set_dtype_policy(PRECISIONS[args.precision])
    gan = built_gan(args, replicas)
    flops, generator_forward, discriminator_forward = step_flops(gan.generator, gan.discriminator,
                                                                 args.batch_size)
    elapsed, timings = timed_steps(gan, faces, args.batch_size, args)
    achieved = flops * args.steps / elapsed / 1e9
    peaks = matmul_gflops()
    peak = max(peaks.values())
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"backend {keras.backend.backend()}, {args.precision}, {os.cpu_count()} CPU cores, image {args.image_size}, "
          f"batch {args.batch_size}, {args.steps} timed steps after {args.warmup} warm-up")
    print(f"FLOPs per image, forward: G {generator_forward / 1e9:.3f} G, D {discriminator_forward / 1e9:.3f} G; "
          f"per recipe step: {flops / 1e9:.1f} GFLOP")
    print(f"throughput: {args.batch_size * args.steps / elapsed:.1f} images/s, {elapsed / args.steps:.2f} s/step")
    print("time per step: " + ", ".join(f"{name} {seconds / args.steps * 1000:.0f} ms"
                                        for name, seconds in timings.items()))
    print(f"achieved: {achieved:.1f} GFLOP/s; float32 matmul: "
          + ", ".join(f"{name} {rate:.1f}" for name, rate in peaks.items())
          + f" GFLOP/s; ratio {achieved / peak:.0%} of {peak:.1f}")
    print(f"peak memory (RSS): {peak_rss:.0f} MiB")
    if replicas.count > 1:
        local_batch = args.batch_size // replicas.count
        alone, _ = timed_steps(built_gan(args, distribute.ONE_DEVICE), faces, local_batch, args)
        total, one = args.batch_size * args.steps / elapsed, local_batch * args.steps / alone
        print(f"{args.distribute}, {replicas.count} replicas of {local_batch}: {total:.1f} images/s in total, "
              f"{total / replicas.count:.1f} per replica; one replica alone: {one:.1f} images/s; "
              f"scaling efficiency {total / (replicas.count * one):.0%}")


def built_gan(args, replicas):
    keras.utils.set_random_seed(0)
    with replicas.scope():
        generator, discriminator = build_generator(args.image_size), build_discriminator(args.image_size)
    return DCGAN(generator, discriminator, diffaugment=POLICIES if args.diffaugment else (), r1_gamma=args.r1_gamma,
                 replicas=replicas)


def timed_steps(gan, faces, batch_size, args):
    """Seconds for args.steps recipe steps after args.warmup, and where they went."""
    rng = np.random.default_rng(0)
    timings = {"data": 0.0, "fakes + D step": 0.0, "G step": 0.0, **({"R1 update": 0.0} if gan.r1 else {})}
    if gan.r1:
        update = gan.r1.step

        def timed_update(inputs):
            tick = time.perf_counter()
            update(inputs)
            timings["R1 update"] += time.perf_counter() - tick
        gan.r1.step = timed_update
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            timings = dict.fromkeys(timings, 0.0)
            started = time.perf_counter()
        tick = time.perf_counter()
        real_batch = faces.batch(rng.integers(0, len(faces), batch_size))
        timings["data"] += time.perf_counter() - tick
        tick = time.perf_counter()
        gan.train_discriminator(real_batch, rng)
        timings["fakes + D step"] += time.perf_counter() - tick
        tick = time.perf_counter()
        gan.train_generator(batch_size, rng)
        timings["G step"] += time.perf_counter() - tick
    if gan.r1:
        timings["fakes + D step"] -= timings["R1 update"]
    return time.perf_counter() - started, timings


if __name__ == "__main__":
    main()
