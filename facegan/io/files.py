"""Writing files so that a reader (or a kill) never meets half of one."""
import contextlib
import os


@contextlib.contextmanager
def replaced_atomically(path):
    """Yields a temporary path beside `path` to write to; when the block ends without error, the file takes
    `path`'s place in one `os.replace`. The temporary keeps the extension, for writers that go by it."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    root, extension = os.path.splitext(path)
    temporary = f"{root}.{os.getpid()}.tmp{extension}"
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
