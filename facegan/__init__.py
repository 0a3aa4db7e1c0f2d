"""facegan: the classic DCGAN recipe for faces, in Keras 3."""


class FaceganError(Exception):
    """A problem with the user's input: the CLI prints it on one line and exits with code 2."""
