"""`facegan serve`: a local web page to age a photo, and to draw and morph new faces (docs/serve.md)."""
import socket
import sys
import time

from facegan import FaceganError

HELP = "a web page to age a photo, and to draw and morph new faces (pip install -e \".[serve]\")"


def add_arguments(parser):
    from facegan.latent.defaults import RESTARTS_FROM_ENCODER, STEPS_FROM_ENCODER

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

    for key in ("steps", "restarts"):
        if getattr(args, key) < 1:
            raise FaceganError(f"--{key} must be at least 1, not {getattr(args, key)}")
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
        server = uvicorn.Server(uvicorn.Config(create_app(engine), log_level="warning", access_log=False))
        server.run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
