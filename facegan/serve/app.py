"""The web app: one static page (static/, no CDN) and a small JSON API over an Engine.

Every model call runs on one thread (serve.jobs.Line), photos waiting together aged in one batch: several
visitors at once wait in a bounded line (the page shows their place and the projection's progress) instead of
racing for the models, and past the line's limits an upload is answered "busy" at once (HTTP 503, or 429 for
one visitor's share, with Retry-After). Aging a photo is a job: POST /api/age answers at once with its id, and
the page polls GET /api/jobs/ID until the faces are there; no request is held for the length of an aging. Any
problem with the input is a one-sentence message, HTTP 400.
"""
import asyncio
import base64
import concurrent.futures
import contextlib
import io
import os
import shutil
import tempfile

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile

from facegan import FaceganError
from facegan.io.pixels import to_uint8
from facegan.serve.engine import AGES, MAX_BYTES, photo_size, read_upload
from facegan.serve.jobs import Busy, Limits, Line

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
REFUSED_BYTES = 8 * MAX_BYTES  # an upload this large is refused unparsed (read and dropped); up to it, as over 10 MB


def png(face):
    """A face in [-1, 1] (or a PIL image) -> PNG bytes."""
    from PIL import Image

    image = face if isinstance(face, Image.Image) else Image.fromarray(to_uint8(face))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(face):
    return "data:image/png;base64," + base64.b64encode(png(face)).decode()


def summary(photo, faces):
    """The page's result for an AgedPhoto and its faces at each of AGES."""
    return {"original": data_url(photo.face), "aged": {str(age): data_url(face) for age, face in faces.items()},
            "source_age": round(photo.source_age), "notes": photo.notes, "ages": list(faces)}


def _number(value, name, kind=float, default=None):
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise FaceganError(f"{name} must be a number, not {str(value)[:20]!r}") from None


def _problem(message, status=400, headers=None):
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _refused(refusal):
    return _problem(str(refusal), refusal.status, {"Retry-After": str(refusal.seconds)})


def create_app(engine, limits=None):
    line = Line(engine, limits or Limits(), summary, AGES)
    reader = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="facegan-uploads")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        line.stop()  # Ctrl-C: the batch under way stops at its next step, the queued photos are dropped
        reader.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="facegan", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    async def on_models(function, *args):
        return await asyncio.wrap_future(line.call(function, *args))

    def decoded(job, upload, from_age):
        """The upload's photo, decoded once the line has room for it (a temporary copy of the file, on disk, is
        what Pillow reads; it is deleted at once)."""
        with tempfile.NamedTemporaryFile(prefix="facegan-serve-") as copy:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, copy)
            copy.flush()
            width, height = photo_size(copy.name)
            line.hold(job, width * height * 3)
            return read_upload(copy.name, upload.filename, from_age)

    async def unread(request, answer):
        """`answer`, once the upload's body is read to the end and dropped: a server that answers before it has
        read the body resets the connection, and the client never hears why."""
        async for _chunk in request.stream():
            pass
        return answer

    @app.get("/")
    async def page():
        return FileResponse(os.path.join(STATIC, "index.html"))

    @app.post("/api/age")
    async def age(request: Request):
        size = int(request.headers.get("content-length") or 0)
        if size > REFUSED_BYTES:  # not even parsed
            return await unread(request, _problem(f"the file is {size / 2**20:.0f} MB; the limit is "
                                                  f"{MAX_BYTES / 2**20:g} MB", 413))
        try:
            job = line.admit(request.client.host if request.client else "")
        except Busy as refusal:
            return await unread(request, _refused(refusal))
        try:
            async with request.form(max_files=1, max_fields=4) as form:
                upload = form.get("photo")
                if not isinstance(upload, UploadFile):
                    raise FaceganError("no photo in the upload")
                from_age = _number(form.get("from_age"), "the age in the photo")
                photo = await asyncio.get_running_loop().run_in_executor(reader, decoded, job, upload, from_age)
        except Busy as refusal:  # no room for its pixels: the line has let it go
            return _refused(refusal)
        except FaceganError as problem:
            line.drop(job)
            return _problem(str(problem))
        except Exception as problem:  # a malformed multipart body, a client gone mid-upload
            line.drop(job)
            return _problem(f"the upload could not be read ({type(problem).__name__})")
        line.queue(job, photo)
        return {"job": job.id}

    def find_job(job_id):
        job = line.find(job_id)
        if job is None:
            raise HTTPException(404, "no such job (the server keeps the last few; upload the photo again)")
        return job

    @app.get("/api/jobs/{job_id}")
    async def job_state(job_id: str):
        job = find_job(job_id)
        return {"state": job.state, "done": job.done, "total": job.total, "ahead": line.ahead(job),
                "message": job.message, "result": job.result, "seconds": round(job.seconds, 2)}

    @app.get("/api/jobs/{job_id}/result.png")
    async def result(job_id: str, age: str = "60", download: bool = False):
        job = find_job(job_id)
        photo = job.photo
        if photo is None:
            return _problem("this photo is not aged yet" if job.state != "done" else "the server let this photo "
                            "go to make room for others: upload it again for its download", 409)
        try:
            image = await on_models(engine.result, photo, _number(age, "the target age", float, 60))
        except FaceganError as problem:
            return _problem(str(problem))
        headers = {}
        if download:
            stem = os.path.splitext(photo.name)[0]
            headers["Content-Disposition"] = f'attachment; filename="{stem}-aged-{float(age):g}.png"'
        return Response(await asyncio.to_thread(png, image), media_type="image/png", headers=headers)

    @app.get("/api/faces")
    async def faces(seed: str = "0"):
        try:
            drawn = await on_models(engine.draw_faces, _number(seed, "the seed", int, 0))
        except FaceganError as problem:
            return _problem(str(problem))
        return {"faces": [data_url(face) for face in drawn]}

    @app.get("/api/morph")
    async def morph(seed: str = "0", first: str = "0", last: str = "1", frames: str = "9"):
        try:
            numbers = [_number(value, name, int, 0) for value, name in
                       ((seed, "the seed"), (first, "the first face"), (last, "the last face"), (frames, "frames"))]
            drawn = await on_models(engine.morph, *numbers)
        except FaceganError as problem:
            return _problem(str(problem))
        return {"frames": [data_url(face) for face in drawn]}

    @app.exception_handler(HTTPException)
    async def http_problem(_request, problem):
        return _problem(str(problem.detail), problem.status_code)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.engine, app.state.line = engine, line
    return app
