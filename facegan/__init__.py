"""facegan: the classic DCGAN recipe for faces, in Keras 3."""
import os

# TensorFlow 2.21 leaves oneDNN off on CPUs without AVX-512 VNNI/BF16; on our AVX2 machine turning it on
# made the GAN step 2.2-2.5x faster (bench/train_throughput.py). It must be set before TensorFlow is first
# imported; a user's own setting wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


class FaceganError(Exception):
    """A problem with the user's input: the CLI prints it on one line and exits with code 2."""
