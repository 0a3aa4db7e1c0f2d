"""Face finders for the tests of aging: each test given `finder` runs once with MTCNN and once with dlib's, each
skipped where its modules are missing (MTCNN also off TensorFlow, where facegan keeps TensorFlow out)."""
import pytest


def make_finder(name):
    from facegan.aging import finders

    if name == "mtcnn":
        pytest.importorskip("mtcnn", reason="MTCNN needs the aging extra, and TensorFlow")
        return finders.MtcnnFinder()
    for module in ("dlib", "face_recognition_models"):
        pytest.importorskip(module, reason="the aging extra is not installed")
    return finders.DlibFinder()


@pytest.fixture(params=["mtcnn", "dlib"])
def finder(request):
    return make_finder(request.param)
