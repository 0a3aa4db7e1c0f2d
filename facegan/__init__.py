"""facegan: the classic DCGAN recipe for faces, in Keras 3."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where data/ and checkpoints/ are

# TensorFlow 2.21 leaves oneDNN off on CPUs without AVX-512 VNNI/BF16; on our AVX2 machine turning it on
# made the GAN step 2.2-2.5x faster (bench/train_throughput.py). It must be set before TensorFlow is first
# imported; a user's own setting wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's start-up chatter (a cuInit "error" on machines without a GPU among it) hides what facegan says.
# Quiet by default; a user who sets TF_CPP_MIN_LOG_LEVEL gets TensorFlow's logging as they asked for it.
USER_SET_TF_LOGGING = "TF_CPP_MIN_LOG_LEVEL" in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class FaceganError(Exception):
    """A problem with the user's input: the CLI prints it on one line and exits with code 2."""


from facegan.backend import keep_tensorflow_out  # noqa: E402  (it needs FaceganError)

keep_tensorflow_out()


def import_tensorflow_quietly():
    """Imports TensorFlow with its start-up lines held back. Its shared libraries log from C++ while they load,
    before any log level applies, so those lines go to a temporary file, shown only if the import fails."""
    import logging
    import tempfile

    if USER_SET_TF_LOGGING or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as held_back:
        os.dup2(held_back.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved_stderr, 2)
            held_back.seek(0)
            sys.stderr.write(held_back.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
    logging.getLogger("absl").setLevel(logging.ERROR)
