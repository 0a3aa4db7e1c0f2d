"""serve.jobs: the line's limits, batches and expiry, with a stand-in engine (no models: fast)."""
import threading
import types

import pytest

from facegan import FaceganError
from facegan.serve.jobs import Busy, Limits, Line

AGES = (10, 60)


class FakeEngine:
    """Ages an upload named "bad" to a FaceganError; a batch holding "crash" raises as a whole."""

    def __init__(self):
        self.batches = []

    def age_photos(self, uploads, progress):
        self.batches.append([upload.name for upload in uploads])
        progress(1, 1)
        if len(uploads) > 1 and any(upload.name == "crash" for upload in uploads):
            raise RuntimeError("a batch-wide failure")
        if uploads[0].name == "crash":
            raise RuntimeError("this photo breaks the models")
        return [FaceganError("no face found") if upload.name == "bad" else types.SimpleNamespace(name=upload.name)
                for upload in uploads]

    def faces_at(self, photos, ages):
        return {age: [f"{photo.name}@{age}" for photo in photos] for age in ages}


def summarise(photo, faces):
    return {"name": photo.name, "faces": faces}


def make_line(clock=None, **limits):
    engine = FakeEngine()
    line = Line(engine, Limits(**limits), summarise, AGES, **({"clock": clock} if clock else {}))
    return line, engine


def paused(line):
    """Holds the model thread on a call until the returned event is set, so that jobs gather in line."""
    release = threading.Event()
    line.call(release.wait)
    return release


def add(line, name, client="a", size=10):
    job = line.admit(client)
    line.hold(job, size)
    line.queue(job, types.SimpleNamespace(name=name))
    return job


def finish(line):
    line.call(lambda: None).result(timeout=10)  # a call after the batches: they are done when it is


def test_waiting_photos_are_aged_together_up_to_the_batch_size():
    line, engine = make_line(batch=3)
    release = paused(line)
    jobs = [add(line, f"photo{index}", client=str(index)) for index in range(5)]
    assert [line.ahead(job) for job in jobs] == [0, 1, 2, 3, 4]
    release.set()
    finish(line)
    assert engine.batches == [["photo0", "photo1", "photo2"], ["photo3", "photo4"]]
    assert [job.state for job in jobs] == ["done"] * 5
    assert jobs[4].result == {"name": "photo4", "faces": {10: "photo4@10", 60: "photo4@60"}}
    assert (jobs[4].done, jobs[4].total) == (1, 1)
    line.stop()


def test_one_bad_photo_in_a_batch_fails_alone():
    line, engine = make_line()
    release = paused(line)
    jobs = [add(line, name, client=name) for name in ("good", "bad", "crash", "fine")]
    release.set()
    finish(line)
    assert [job.state for job in jobs] == ["done", "error", "error", "done"]
    assert jobs[1].message == "no face found"
    assert "this photo breaks the models" in jobs[2].message
    assert engine.batches[0] == ["good", "bad", "crash", "fine"]  # together first, then each alone
    assert sorted(map(tuple, engine.batches[1:])) == [("bad",), ("crash",), ("fine",), ("good",)]
    assert [job.bytes for job in jobs] == [10, 0, 0, 10]  # a failed photo's room is given back
    line.stop()


def test_past_the_limits_an_upload_is_busy_with_a_wait_to_suggest():
    line, _engine = make_line(queue=3, per_client=2, megabytes=1)
    release = paused(line)
    add(line, "one", "a")
    add(line, "two", "a")
    with pytest.raises(Busy) as mine:
        line.admit("a")
    assert mine.value.status == 429
    assert str(mine.value).startswith("busy: 2 ahead") and f"about {mine.value.seconds} s" in str(mine.value)
    uploading = line.admit("b")
    with pytest.raises(Busy) as everyone:
        line.admit("c")
    assert everyone.value.status == 503 and str(everyone.value).startswith("busy: 3 ahead")
    with pytest.raises(Busy):  # 20 bytes held, 1 MB of room
        line.hold(uploading, 2**20 - 10)
    assert line.find(uploading.id) is None  # refused: out of line
    with pytest.raises(FaceganError, match="holds at most 1 MB"):
        line.hold(line.admit("b"), 2**20 + 1)
    release.set()
    finish(line)
    line.stop()


def test_finished_photos_give_up_their_room_and_expire_by_count_and_age():
    now = [0.0]
    line, _engine = make_line(clock=lambda: now[0], megabytes=1, keep=2, keep_seconds=60)
    first, second = add(line, "first", size=2**19), add(line, "second", size=2**19)
    finish(line)
    newcomer = line.admit("b")
    line.hold(newcomer, 2**19)  # room made from the oldest finished photo's download
    assert first.photo is None and first.result is not None and second.photo is not None
    line.drop(newcomer)
    add(line, "third", size=1)
    finish(line)
    assert line.find(first.id) is None and line.find(second.id) is second  # the last 2 finished are kept
    now[0] = 61.0
    assert line.find(second.id) is None  # and none past its minute
    line.stop()
