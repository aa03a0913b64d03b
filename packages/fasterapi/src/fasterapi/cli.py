"""`fasterapi run module:app` (or `python -m fasterapi run module:app`), and `fasterapi.run()`: an
app served by fasterapi-server, in this process or by a supervisor and its worker processes.

fasterapi_server is imported only when something is served: `import fasterapi` does not need it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

# run()'s keywords that shape the processes; every other one is a fasterapi_server.Config field.
PROCESS_OPTIONS = (
    "workers",
    "reload",
    "reload_dirs",
    "max_requests_jitter",
    "app_dir",
    "factory",
)


def run(app: Any, **options: Any) -> None:
    """Serves `app` (an ASGI app, or "module:attr" naming one) until SIGINT or SIGTERM.

    The options are those of `fasterapi run` as keywords: the fields of fasterapi_server.Config
    (host, port, threads, lifespan, loop, root_path, access_log, log_level, ssl_certfile,
    ssl_keyfile, shutdown_timeout, max_requests...) and workers, reload, reload_dirs,
    max_requests_jitter, app_dir, factory. Workers, reload and max_requests need "module:attr".
    A value the server cannot take raises fasterapi_server.OptionError (a ValueError).
    """
    from fasterapi_server import Config  # noqa: PLC0415  (the server loads only to serve)
    from fasterapi_server._workers import run as serve  # noqa: PLC0415

    process = {name: options.pop(name) for name in PROCESS_OPTIONS if name in options}
    serve(app, Config.from_kwargs(**options), **process)


def version() -> str:
    def of(distribution: str) -> str:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return "(not installed)"

    return (
        f"fasterapi {of('fasterapi-framework')} (fasterapi-server {of('fasterapi-server')}) "
        f"with {platform.python_implementation()} {platform.python_version()} on {platform.system()}"
    )


def parser() -> argparse.ArgumentParser:
    from fasterapi_server._config import LOG_LEVELS  # noqa: PLC0415  (the server loads only to serve)

    top = argparse.ArgumentParser(
        prog="fasterapi", description="FasterAPI: a FastAPI-compatible web framework."
    )
    top.add_argument("--version", action="version", version=version())
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmd = commands.add_parser(
        "run",
        help="serve an app with fasterapi-server",
        description="Serve an ASGI app (a FasterAPI, FastAPI or any ASGI 3 app) with fasterapi-server.",
    )
    add = cmd.add_argument
    hide = argparse.SUPPRESS  # not given: fasterapi_server.Config's default applies
    add("app", metavar="APP", help='the app as an import string, "module:attribute" (e.g. main:app)')
    add("--version", action="version", version=version())
    add("--host", default=hide, help="bind the socket to this host (default: 127.0.0.1)")
    add("--port", type=int, default=hide, help="bind the socket to this port (default: 8000)")
    add("--uds", default=hide, metavar="PATH", help="listen on a Unix domain socket at PATH, not host:port")
    add(
        "--fd",
        type=int,
        default=hide,
        help="listen on the socket inherited as this file descriptor instead of host:port (systemd: 3)",
    )
    add("--workers", type=int, help="worker processes, sharing the port (default: $WEB_CONCURRENCY or 1)")
    add(
        "--threads",
        type=int,
        default=hide,
        help="I/O threads per worker; 0: the I/O on the Python thread (default: cores / 2; 0 with one core)",
    )
    add("--reload", action="store_true", help="restart the workers when a *.py file changes (development)")
    add(
        "--reload-dir",
        dest="reload_dirs",
        action="append",
        metavar="DIR",
        help="watch this directory for --reload, repeatable (default: --app-dir)",
    )
    add("--ssl-certfile", default=hide, metavar="FILE", help="the TLS certificate chain (PEM)")
    add("--ssl-keyfile", default=hide, metavar="FILE", help="the TLS private key (PEM)")
    add("--log-level", choices=tuple(LOG_LEVELS), default=hide, help="the server's log level (default: info)")
    add(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=hide,
        help="log each request on stdout (default: off)",
    )
    add("--max-requests", type=int, metavar="N", help="replace a worker after it served N requests")
    add(
        "--max-requests-jitter",
        type=int,
        default=0,
        metavar="N",
        help="add a random 0..N to --max-requests per worker, so they are not replaced together",
    )
    add(
        "--root-path",
        default=hide,
        metavar="PATH",
        help="the ASGI root_path, for an app mounted below a proxy",
    )
    add(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=hide,
        help="take the client's address and the scheme from X-Forwarded-For and X-Forwarded-Proto "
        "when the peer is in --forwarded-allow-ips (default: on)",
    )
    add(
        "--forwarded-allow-ips",
        default=hide,
        metavar="IPS",
        help="the proxies trusted with those headers: comma-separated addresses, networks, or * "
        "(default: $FORWARDED_ALLOW_IPS or 127.0.0.1)",
    )
    add(
        "--lifespan",
        choices=("auto", "on", "off"),
        default=hide,
        help="the ASGI lifespan protocol (default: auto)",
    )
    add("--loop", choices=("auto", "asyncio", "uvloop"), default=hide, help="the event loop (default: auto)")
    add(
        "--timeout-graceful-shutdown",
        dest="shutdown_timeout",
        type=float,
        default=hide,
        metavar="SECONDS",
        help="on shutdown, how long requests in flight may take to finish (default: 30)",
    )
    # Limits, timeouts and the rest of fasterapi_server.Config: one flag per field.
    limits = (
        ("--max-body-size", "BYTES", "a larger request body is answered 413 (default: 1 GiB)"),
        ("--max-connections", "N", "per worker; accepting pauses at the limit (default: 10000)"),
        ("--max-pipelined", "N", "requests read ahead of their responses (default: 32)"),
        ("--max-request-line", "BYTES", "a longer request line is answered 414 (default: 8190)"),
        ("--max-header-bytes", "BYTES", "larger header fields are answered 431 (default: 65536)"),
        ("--max-headers", "N", "more header fields are answered 431 (default: 100)"),
    )
    for flag, unit, text in limits:
        add(flag, type=int, default=hide, metavar=unit, help=text)
    timeouts = (
        ("--timeout-keep-alive", "keep_alive_timeout", "close an idle connection (default: 5)"),
        ("--timeout-header", "header_timeout", "408 for a head not ended in time (default: 10)"),
        ("--timeout-body", "body_timeout", "close a connection whose request body stalls (default: 30)"),
        ("--timeout-write", "write_timeout", "close a connection whose client takes no bytes (default: 60)"),
    )
    for flag, dest, text in timeouts:
        add(flag, dest=dest, type=float, default=hide, metavar="SECONDS", help=text)
    add("--server-header", default=hide, metavar="VALUE", help="the Server header; empty: none")
    yes_no = argparse.BooleanOptionalAction
    add(
        "--reuse-port",
        action=yes_no,
        default=hide,
        help="a listening socket per I/O thread, SO_REUSEPORT (default: on with --workers, else off)",
    )
    add(
        "--executor",
        choices=("native", "anyio"),
        default=hide,
        help="where sync endpoints and dependencies run: the engine's threads or anyio's (default: native)",
    )
    add("--executor-threads", type=int, default=hide, metavar="N", help="the executor's size")
    add("--native", action=yes_no, default=hide, help="fasterapi apps' routes without ASGI (default: on)")
    add(
        "--gc-freeze",
        action=yes_no,
        default=hide,
        help="keep what exists before serving out of the garbage collector's sight (default: on)",
    )
    add("--app-dir", default=".", metavar="DIR", help="import the app from this directory (default: .)")
    add("--factory", action="store_true", help="APP names a callable that returns the app")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    from fasterapi_server import OptionError  # noqa: PLC0415

    top = parser()
    args = vars(top.parse_args(argv))
    args.pop("command")
    app = args.pop("app")
    try:
        if args["workers"] is None:
            args["workers"] = workers_from_environment()
        run(app, **args)
    except OptionError as exc:  # only the options' errors: the app's own go up as they are
        print(f"fasterapi run: error: {exc}", file=sys.stderr)
        return 2
    return 0


def workers_from_environment() -> int:
    from fasterapi_server import OptionError  # noqa: PLC0415

    value = os.environ.get("WEB_CONCURRENCY", "1")
    try:
        return int(value)
    except ValueError:
        raise OptionError(f"WEB_CONCURRENCY must be a number of workers, not {value!r}") from None
