"""The web app: one static page (static/, no CDN) and a small JSON API over an Engine.

Every model call runs on one worker thread, in the order asked: several visitors at once wait in line (the page
shows their place and the projection's progress) instead of racing for the models. Aging a photo is a job:
POST /api/age answers at once with its id, and the page polls GET /api/jobs/ID until the faces are there; no
request is held for the length of an aging. Any problem with the input is a one-sentence message, HTTP 400.
"""
import asyncio
import base64
import collections
import concurrent.futures
import contextlib
import dataclasses
import io
import itertools
import os
import threading
import time

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from facegan import FaceganError
from facegan.io.pixels import to_uint8
from facegan.serve.engine import AGES, MAX_BYTES

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
KEPT_JOBS = 16  # finished jobs kept for their downloads; the oldest go first
REFUSED_BYTES = 8 * MAX_BYTES  # an upload this large is refused unread; up to it, the page says the file's size


@dataclasses.dataclass
class Job:
    id: str
    state: str = "queued"  # queued, running, done, error
    done: int = 0
    total: int = 0
    message: str = ""
    photo: object = None   # the engine's AgedPhoto, once done
    result: dict = None
    started: float = 0.0
    seconds: float = 0.0


def png(face):
    """A face in [-1, 1] (or a PIL image) -> PNG bytes."""
    from PIL import Image

    image = face if isinstance(face, Image.Image) else Image.fromarray(to_uint8(face))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(face):
    return "data:image/png;base64," + base64.b64encode(png(face)).decode()


def _number(value, name, kind=float, default=None):
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise FaceganError(f"{name} must be a number, not {str(value)[:20]!r}") from None


def _problem(message, status=400):
    return JSONResponse({"error": message}, status_code=status)


def create_app(engine):
    worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="facegan-models")
    jobs, line, lock, ids = collections.OrderedDict(), [], threading.Lock(), itertools.count(1)
    stopping = threading.Event()

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        # Ctrl-C: the aging under way stops at its next step, the queued ones are dropped
        stopping.set()
        worker.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="facegan", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    async def on_worker(function, *args):
        return await asyncio.get_running_loop().run_in_executor(worker, function, *args)

    def age_job(job, name, data, from_age):
        with lock:
            line.remove(job.id)
            job.state, job.started = "running", time.monotonic()

        def progress(done, total):
            if stopping.is_set():
                raise RuntimeError("the server is stopping")
            job.done, job.total = done, total

        try:
            photo = engine.age_photo(name, data, from_age, progress)
            faces = {str(age): data_url(engine.aged_at(photo, age)) for age in AGES}
            job.result = {"original": data_url(photo.face), "aged": faces, "source_age": round(photo.source_age),
                          "notes": photo.notes, "ages": list(AGES)}
            job.photo, job.state = photo, "done"
        except FaceganError as problem:
            job.message, job.state = str(problem), "error"
        except Exception as problem:  # the server goes on; the page says what broke
            job.message, job.state = f"the server could not age this photo ({type(problem).__name__}: {problem})", \
                "error"
        job.seconds = time.monotonic() - job.started

    @app.get("/")
    async def page():
        return FileResponse(os.path.join(STATIC, "index.html"))

    @app.post("/api/age")
    async def age(request: Request):
        if int(request.headers.get("content-length") or 0) > REFUSED_BYTES:  # not even read
            return _problem(f"the file is far over the limit of {MAX_BYTES / 2**20:g} MB", 413)
        try:
            form = await request.form(max_files=1, max_fields=4)
            upload = form.get("photo")
            if not isinstance(upload, UploadFile):
                raise FaceganError("no photo in the upload")
            data = await upload.read()
            from_age = _number(form.get("from_age"), "the age in the photo")
            from facegan.serve.engine import check_upload

            check_upload(data)
        except FaceganError as problem:
            return _problem(str(problem))
        except Exception as problem:  # a malformed multipart body
            return _problem(f"the upload could not be read ({type(problem).__name__})")
        job = Job(id=f"{next(ids)}-{os.urandom(6).hex()}")
        with lock:
            jobs[job.id] = job
            line.append(job.id)
            for old in [key for key, kept in jobs.items() if kept.state in ("done", "error")][:-KEPT_JOBS]:
                del jobs[old]
        worker.submit(age_job, job, upload.filename, data, from_age)
        return {"job": job.id}

    def find_job(job_id):
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job (the server keeps the last few; upload the photo again)")
        return job

    @app.get("/api/jobs/{job_id}")
    async def job_state(job_id: str):
        job = find_job(job_id)
        with lock:
            running = sum(other.state == "running" for other in jobs.values())
            ahead = line.index(job.id) + running if job.state == "queued" else 0
        return {"state": job.state, "done": job.done, "total": job.total, "ahead": ahead, "message": job.message,
                "result": job.result, "seconds": round(job.seconds, 2)}

    @app.get("/api/jobs/{job_id}/result.png")
    async def result(job_id: str, age: str = "60", download: bool = False):
        job = find_job(job_id)
        if job.photo is None:
            return _problem("this photo is not aged yet", 409)
        try:
            image = await on_worker(engine.result, job.photo, _number(age, "the target age", float, 60))
        except FaceganError as problem:
            return _problem(str(problem))
        headers = {}
        if download:
            stem = os.path.splitext(job.photo.name)[0]
            headers["Content-Disposition"] = f'attachment; filename="{stem}-aged-{float(age):g}.png"'
        return Response(png(image), media_type="image/png", headers=headers)

    @app.get("/api/faces")
    async def faces(seed: str = "0"):
        try:
            drawn = await on_worker(engine.draw_faces, _number(seed, "the seed", int, 0))
        except FaceganError as problem:
            return _problem(str(problem))
        return {"faces": [data_url(face) for face in drawn]}

    @app.get("/api/morph")
    async def morph(seed: str = "0", first: str = "0", last: str = "1", frames: str = "9"):
        try:
            numbers = [_number(value, name, int, 0) for value, name in
                       ((seed, "the seed"), (first, "the first face"), (last, "the last face"), (frames, "frames"))]
            drawn = await on_worker(engine.morph, *numbers)
        except FaceganError as problem:
            return _problem(str(problem))
        return {"frames": [data_url(face) for face in drawn]}

    @app.exception_handler(HTTPException)
    async def http_problem(_request, problem):
        return _problem(str(problem.detail), problem.status_code)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.engine, app.state.worker = engine, worker
    return app
