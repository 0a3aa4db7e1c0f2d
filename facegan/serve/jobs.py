"""The line of photos waiting to be aged, bounded by design, and the one thread that makes every model call.

An upload takes a place in line before its body is read (`admit`), and room for its decoded pixels before they
are decoded (`hold`); past a limit it is refused at once with Busy, so that a flood of uploads costs the server
no more memory than the limits allow. The model thread ages every waiting photo, up to a batch, together (one
projection, as `facegan age` ages a folder); one bad photo in a batch fails alone. Finished jobs are kept for
their pages (and their downloads) until they expire by count or by age; the photo of a finished job is the first
thing given up when a new upload needs room.
"""
import collections
import concurrent.futures
import dataclasses
import itertools
import math
import os
import threading
import time

from facegan import FaceganError

WAITING = ("uploading", "queued", "running")  # the states that count against the line's limits
FIRST_GUESS = 3.0  # seconds a photo, for the first "try again in about T s", before any batch is timed


@dataclasses.dataclass
class Limits:
    queue: int = 64            # photos uploading, waiting or being aged, from everyone
    per_client: int = 8        # of those, from one client address
    megabytes: float = 512     # decoded photos held: waiting, being aged and kept for download (width x height x 3)
    batch: int = 16            # photos aged together
    keep: int = 100            # finished jobs kept for their pages; the oldest go first
    keep_seconds: float = 600  # and none longer than this


class Busy(Exception):
    """An upload refused for now: `status` 503 (the line or the room for photos is full) or 429 (this client's
    share is), `seconds` the wait to suggest (Retry-After)."""

    def __init__(self, message, status, seconds):
        super().__init__(message)
        self.status, self.seconds = status, seconds


@dataclasses.dataclass
class Job:
    id: str
    client: str
    state: str = "uploading"   # uploading, queued, running, done, error
    bytes: int = 0             # the room held for its photo
    upload: object = None      # the engine's Upload while it waits
    photo: object = None       # the engine's AgedPhoto once done, until its room is needed
    result: dict = None        # what the page shows, once done
    done: int = 0
    total: int = 0
    message: str = ""
    started: float = 0.0
    seconds: float = 0.0
    finished: float = 0.0


class Line:
    """The jobs, their limits and the model thread. `summarise(photo, faces)` turns an AgedPhoto and its faces at
    engine.AGES into the page's result."""

    def __init__(self, engine, limits, summarise, ages, clock=time.monotonic):
        self.engine, self.limits, self.summarise, self.ages, self.clock = engine, limits, summarise, ages, clock
        self.jobs = collections.OrderedDict()
        self.queued, self.calls = collections.deque(), collections.deque()
        self.lock = threading.Condition()
        self.ids = itertools.count(1)
        self.per_photo = None  # seconds a photo in the last batch (its time over its size)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="facegan-models", daemon=True)
        self.thread.start()

    # the web side
    def admit(self, client):
        """A new Job in line for `client`, before its upload is read; Busy past the line's limits."""
        with self.lock:
            self._expire()
            waiting = [job for job in self.jobs.values() if job.state in WAITING]
            if len(waiting) >= self.limits.queue:
                raise self._busy(len(waiting), 503)
            mine = sum(job.client == client for job in waiting)
            if mine >= self.limits.per_client:
                raise self._busy(len(waiting), 429, f" (you have {mine} photos in line, the most one visitor may)")
            job = Job(id=f"{next(self.ids)}-{os.urandom(6).hex()}", client=client)
            self.jobs[job.id] = job
            return job

    def hold(self, job, size):
        """Room for `size` bytes of decoded photo, made by giving up the oldest finished jobs' photos (their
        downloads) where needed; Busy if the photos waiting fill it, FaceganError if it never could fit."""
        room = int(self.limits.megabytes * 2**20)
        if size > room:
            self.drop(job)
            raise FaceganError(f"this photo is {size / 2**20:.0f} MB decoded; this server holds at most "
                               f"{self.limits.megabytes:g} MB of photos (facegan serve --queue-mb)")
        with self.lock:
            held = sum(other.bytes for other in self.jobs.values())
            for other in list(self.jobs.values()):
                if held + size <= room:
                    break
                if other.state == "done" and other.photo is not None:
                    held -= other.bytes
                    other.photo, other.bytes = None, 0
            if held + size > room:
                self._forget(job)
                raise self._busy(sum(other.state in WAITING for other in self.jobs.values()), 503)
            job.bytes = size

    def queue(self, job, upload):
        with self.lock:
            job.upload, job.state = upload, "queued"
            self.queued.append(job)
            self.lock.notify()

    def drop(self, job):
        """Gives up an upload that will not be queued (a bad file, a client gone)."""
        with self.lock:
            self._forget(job)

    def find(self, job_id):
        with self.lock:
            self._expire()
            return self.jobs.get(job_id)

    def ahead(self, job):
        """How many photos are aged before this one: those before it in line and the batch being aged."""
        with self.lock:
            if job.state != "queued":
                return 0
            return self.queued.index(job) + sum(other.state == "running" for other in self.jobs.values())

    def call(self, function, *args):
        """`function(*args)` on the model thread, before the next batch: a concurrent.futures.Future."""
        future = concurrent.futures.Future()
        with self.lock:
            self.calls.append((future, function, args))
            self.lock.notify()
        return future

    def stop(self):
        """The batch under way stops at its next step; the photos waiting are dropped."""
        with self.lock:
            self.stopping = True
            self.lock.notify()

    def _busy(self, waiting, status, why=""):
        seconds = max(1, math.ceil(waiting * (self.per_photo or FIRST_GUESS)))
        return Busy(f"busy: {waiting} ahead{why}, try again in about {seconds} s", status, seconds)

    def _forget(self, job):
        self.jobs.pop(job.id, None)
        job.bytes, job.upload = 0, None

    def _expire(self):
        finished = [job for job in self.jobs.values() if job.state in ("done", "error")]
        finished.sort(key=lambda job: job.finished)
        too_old = self.clock() - self.limits.keep_seconds
        for index, job in enumerate(finished):
            if index < len(finished) - self.limits.keep or job.finished < too_old:
                self._forget(job)

    # the model thread
    def _run(self):
        while True:
            with self.lock:
                while not (self.calls or self.queued or self.stopping):
                    self.lock.wait()
                if self.stopping:
                    for job in self.queued:
                        self._forget(job)
                    return
                call = self.calls.popleft() if self.calls else None
                batch = [] if call else [self.queued.popleft()
                                         for _ in range(min(self.limits.batch, len(self.queued)))]
                for job in batch:
                    job.state, job.started = "running", self.clock()
            if call:
                future, function, args = call
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(function(*args))
                    except BaseException as problem:  # the caller's to raise
                        future.set_exception(problem)
            else:
                started = self.clock()
                self._age(batch)
                self.per_photo = (self.clock() - started) / len(batch)

    def _progress(self, batch):
        def progress(done, total):
            if self.stopping:
                raise RuntimeError("the server is stopping")
            for job in batch:
                job.done, job.total = done, total
        return progress

    def _age(self, batch):
        """Ages the batch together; should that fail as a whole, each photo alone, so a bad one fails alone."""
        try:
            answers = self.engine.age_photos([job.upload for job in batch], self._progress(batch))
            aged = [answer for answer in answers if not isinstance(answer, Exception)]
            faces = {age: iter(drawn) for age, drawn in self.engine.faces_at(aged, self.ages).items()} if aged else {}
            results = [answer if isinstance(answer, Exception) else
                       (answer, self.summarise(answer, {age: next(faces[age]) for age in self.ages}))
                       for answer in answers]
        except Exception as problem:
            if len(batch) > 1 and not self.stopping:
                for job in batch:
                    self._age([job])
                return
            if not isinstance(problem, FaceganError):  # the server goes on; the page says what broke
                problem = f"the server could not age this photo ({type(problem).__name__}: {problem})"
            results = [problem]
        now = self.clock()
        with self.lock:
            for job, outcome in zip(batch, results):
                if isinstance(outcome, tuple):
                    job.photo, job.result = outcome
                    job.state = "done"
                else:
                    job.message, job.state, job.bytes = str(outcome), "error", 0
                job.upload, job.seconds, job.finished = None, now - job.started, now
