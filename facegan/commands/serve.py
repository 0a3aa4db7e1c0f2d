"""`facegan serve`: a local web page to age a photo, and to draw and morph new faces (docs/serve.md)."""
import socket
import sys
import time

from facegan import FaceganError

HELP = "a web page to age a photo, and to draw and morph new faces (pip install -e \".[serve]\")"


def add_arguments(parser):
    from facegan.latent.defaults import RESTARTS_FROM_ENCODER, STEPS_FROM_ENCODER
    from facegan.serve.jobs import Limits

    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default %(default)s: this machine only; 0.0.0.0 opens it to "
                             "the network)")
    parser.add_argument("--port", type=int, default=7860, help="port (default %(default)s; 0: any free one)")
    parser.add_argument("--checkpoint", help="the age-conditional run folder, as for `facegan age` (default: the "
                                             "shipped checkpoints/aging-utkface-64)")
    parser.add_argument("--faces-checkpoint", help="a DCGAN run folder or generator.h5 for the new-faces tab "
                                                   "(default: the shipped checkpoints/dcgan-utkface-64)")
    parser.add_argument("--steps", type=int, default=STEPS_FROM_ENCODER,
                        help="projection steps per photo (default %(default)s, as `facegan age`)")
    parser.add_argument("--restarts", type=int, default=RESTARTS_FROM_ENCODER,
                        help="starting points per photo (default %(default)s, as `facegan age`)")
    limits = parser.add_argument_group("limits", "what the server holds at once; past them an upload is answered "
                                                 "busy (HTTP 503, or 429 for one visitor's share) with Retry-After")
    limits.add_argument("--queue", type=int, default=Limits.queue,
                        help="photos in line (uploading, waiting or being aged) (default %(default)s)")
    limits.add_argument("--queue-per-client", type=int, default=Limits.per_client,
                        help="photos in line from one client address (default %(default)s)")
    limits.add_argument("--queue-mb", type=float, default=Limits.megabytes,
                        help="megabytes of decoded photos held: waiting, being aged, and kept for their downloads "
                             "(width x height x 3 bytes each) (default %(default)s)")
    limits.add_argument("--batch-size", type=int, default=Limits.batch,
                        help="photos aged together, in one projection (default %(default)s)")
    limits.add_argument("--keep", type=int, default=Limits.keep,
                        help="finished photos kept for their pages and downloads (default %(default)s)")
    limits.add_argument("--keep-minutes", type=float, default=Limits.keep_seconds / 60,
                        help="and for no longer than this (default %(default)s)")


def _listen(host, port):
    """The listening socket, bound before the models load, so a taken port is a one-line error at once."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as problem:
        raise FaceganError(f"cannot listen on {host}:{port}: {getattr(problem, 'strerror', None) or problem} "
                           "(choose another --port or --host)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(args):
    try:
        import uvicorn

        from facegan.serve.app import create_app
    except ImportError as problem:
        raise FaceganError(f"the web page needs the serve extra ({problem.name} is missing): "
                           "pip install -e \".[serve]\"") from None
    from facegan.serve.engine import Engine

    from facegan.serve.jobs import Limits

    for key in ("steps", "restarts", "queue", "queue_per_client", "batch_size", "keep"):
        if getattr(args, key) < 1:
            raise FaceganError(f"--{key.replace('_', '-')} must be at least 1, not {getattr(args, key)}")
    for key in ("queue_mb", "keep_minutes"):
        if not getattr(args, key) > 0:
            raise FaceganError(f"--{key.replace('_', '-')} must be more than 0, not {getattr(args, key):g}")
    limits = Limits(args.queue, args.queue_per_client, args.queue_mb, args.batch_size, args.keep,
                    args.keep_minutes * 60)
    if not 0 <= args.port <= 65535:
        raise FaceganError(f"--port must be between 0 and 65535, not {args.port}")
    started = time.monotonic()
    sock = _listen(args.host, args.port)
    try:
        engine = Engine(args.checkpoint, args.faces_checkpoint, {"steps": args.steps, "restarts": args.restarts})
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"facegan serve: http://{shown}:{port}/ (models loaded in {time.monotonic() - started:.0f} s; "
              "Ctrl-C to stop)", flush=True)
        server = uvicorn.Server(uvicorn.Config(create_app(engine, limits), log_level="warning", access_log=False))
        server.run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
