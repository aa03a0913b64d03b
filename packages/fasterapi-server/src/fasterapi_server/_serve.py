"""One worker process: the engine's I/O threads, and the Python thread's event loop serving the app.

The loop watches the engine's eventfd; each wake-up hands over a batch of records (Engine.poll):
new requests start their cycle at once (a coroutine driven directly, a Task only if it waits),
stream records go to the cycle waiting for them. Shutdown (SIGTERM, SIGINT, or Server.stop()):
the engine stops accepting and closes idle connections, requests in flight get
`shutdown_timeout` seconds to finish (streaming responses see a disconnect: the server is going
away), then the lifespan shutdown runs and the threads stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import importlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from fasterapi_server._access import AccessLog
from fasterapi_server._asgi import ASGIApp, HTTPCycle, ServerState, dispatch_failed
from fasterapi_server._config import Config
from fasterapi_server._engine import Engine, Request
from fasterapi_server._lifespan import Lifespan, LifespanFailed
from fasterapi_server._listen import UnixListener, describe
from fasterapi_server._workers import EXIT_STARTUP_FAILED, configure_logging

logger = logging.getLogger("fasterapi.server")


class Server:
    def __init__(self, app: ASGIApp, config: Config | None = None, **options: Any) -> None:
        self.app = app
        self.config = config if config is not None else Config.from_kwargs(**options)
        self.engine: Engine | None = None
        self.port: int | None = None
        self._stop: asyncio.Event | None = None
        self._shared: ServerState | None = None
        self._native: Any = None
        self._unix: UnixListener | None = None  # the socket file made for config.uds
        self.served = 0  # requests handed to the app

    # ---- control

    def stop(self) -> None:
        """Starts the graceful shutdown (from the loop's thread)."""
        if self._stop is not None:
            self._stop.set()

    async def serve(self, ready: Callable[[int], None] | None = None) -> None:
        try:
            with _frozen_heap() if self.config.gc_freeze else contextlib.nullcontext():
                await self._serve(ready)
        finally:
            if self._unix is not None:
                self._unix.close()
                self._unix = None

    async def _serve(self, ready: Callable[[int], None] | None) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            if config.uds is not None:
                self._unix = UnixListener(config.uds)
            engine = self._new_engine()
        except (OSError, RuntimeError, ValueError) as exc:  # a certificate that cannot be loaded...
            logger.error("%s", exc)
            raise SystemExit(1) from None
        self.engine = engine
        scheme = "https" if config.ssl_certfile else "http"  # TLS is on every connection or none
        try:
            self.port = engine.bind()
            listen_fd = self._listen_fd()
            if listen_fd >= 0:  # (a socket given: what it is bound to)
                server, name = describe(listen_fd)
            else:
                server, name = (config.host, self.port), f"{config.host}:{self.port}"
        except (OSError, RuntimeError) as exc:
            logger.error("%s", exc)
            raise SystemExit(1) from None
        where = name if server is None else f"{scheme}://{name}"  # (a Unix socket's name says so)
        shared = self._shared = ServerState(self.app, loop, server, config.root_path, scheme)
        access = None
        if config.access_log:
            access = shared.access = AccessLog()
            access.start(loop)
        lifespan = Lifespan(self.app, config.lifespan, shared.state)
        try:
            await lifespan.startup()
        except LifespanFailed as exc:
            logger.error("Application startup failed: %s", exc)
            engine.stop()
            raise SystemExit(EXIT_STARTUP_FAILED) from None
        restore_executor = self._use_executor(engine, loop)
        if config.native:
            from fasterapi_server._native import NativeApp  # noqa: PLC0415 - imports the framework

            self._native = NativeApp.attach(self.app, engine, shared)
        engine.start()
        loop.add_reader(engine.fileno(), self._on_records)
        if engine.io_fileno() >= 0:  # threads=0: this thread does the I/O too
            loop.add_reader(engine.io_fileno(), self._on_records)
        removers = self._install_signals(loop)
        logger.info("Serving on %s (%d I/O threads)", where, config.threads)
        if ready is not None:
            ready(self.port)
        try:
            await self._stop.wait()
        finally:
            await self._shutdown(loop, lifespan)
            for remove in removers:
                remove()
            restore_executor()
            if access is not None:
                access.stop()

    async def _shutdown(self, loop: asyncio.AbstractEventLoop, lifespan: Lifespan) -> None:
        engine = self.engine
        shared = self._shared
        assert engine is not None
        assert shared is not None
        engine.drain()
        shared.shutting_down = True
        for cycle in list(shared.streams.values()):
            cycle._wake()  # streaming responses waiting on the client see the server leave
        deadline = time.monotonic() + self.config.shutdown_timeout
        while time.monotonic() < deadline:
            if engine.io_fileno() >= 0:
                self._on_records()  # inline I/O: its drain starts on this thread's turn
            if engine.stats()["in_flight"] == 0 and not shared.tasks:
                break
            await asyncio.sleep(0.02)
        if shared.tasks:  # (as uvicorn says it)
            logger.error("Cancel %d running task(s), timeout graceful shutdown exceeded", len(shared.tasks))
        for task in list(shared.tasks):
            task.cancel()
        loop.remove_reader(engine.fileno())
        if engine.io_fileno() >= 0:
            loop.remove_reader(engine.io_fileno())
        try:
            await lifespan.shutdown()
        except LifespanFailed as exc:
            logger.error("Application shutdown failed: %s", exc)
        engine.stop()

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> list[Callable[[], object]]:
        removers: list[Callable[[], object]] = []
        if sys.platform == "win32":
            return removers
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.stop)
            except (RuntimeError, ValueError):  # not the main thread
                continue
            removers.append(functools.partial(loop.remove_signal_handler, sig))
        return removers

    def _use_executor(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """Sends fasterapi's blocking calls (sync endpoints, dependencies) to the engine's pool."""
        try:
            from fasterapi import concurrency  # noqa: PLC0415 - the framework is optional
        except ImportError:
            return lambda: None
        fixed = self.config.executor_threads  # else the framework's pool size, followed as it changes
        pool_size = concurrency.get_threadpool_size
        size = fixed or pool_size()
        engine.set_executor_threads(size)
        if self.config.executor != "native":
            return lambda: None

        in_worker = _anyio_worker(loop)

        async def offload(func: Callable[..., Any], *args: Any) -> Any:
            nonlocal size
            if not fixed and pool_size() != size:
                size = pool_size()
                engine.set_executor_threads(size)
            return await engine.submit(contextvars.copy_context().run, in_worker, func, *args)

        return concurrency.use_executor(offload, loop)

    def _listen_fd(self) -> int:
        """The socket the engine listens on when it was given one (uds, fd), else -1."""
        if self._unix is not None:
            return self._unix.fileno()
        return -1 if self.config.fd is None else self.config.fd

    def _new_engine(self) -> Engine:
        config = self.config
        return Engine(
            host=config.host,
            port=config.port,
            threads=config.threads,
            server_header=config.server_header,
            max_body=config.max_body_size,
            max_connections=config.max_connections,
            max_pipelined=config.max_pipelined,
            max_request_line=config.max_request_line,
            max_header_bytes=config.max_header_bytes,
            max_headers=config.max_headers,
            header_timeout=config.header_timeout,
            keep_alive_timeout=config.keep_alive_timeout,
            body_timeout=config.body_timeout,
            write_timeout=config.write_timeout,
            reuse_port=config.reuse_port,
            ssl_certfile=config.ssl_certfile or "",
            ssl_keyfile=config.ssl_keyfile or "",
            forwarded_allow=config.trusted_proxies(),
            fd=self._listen_fd(),
        )

    # ---- the records

    def _on_records(self) -> None:
        engine = self.engine
        shared = self._shared
        assert engine is not None
        assert shared is not None
        native = self._native
        try:
            if native is None:
                self._handle_records(engine.poll(), shared, shared.streams, 0)
            else:
                # The requests are started in the poll, in order (NativeDispatch).
                native.start_batch()
                dispatch = native.dispatch
                items = engine.poll(dispatch)
                try:
                    self._handle_records(items, shared, shared.streams, dispatch.take_served())
                finally:
                    dispatch.raise_pending()  # (what a request's start let out: SystemExit...)
        finally:
            engine.flush()

    def _handle_records(
        self, items: list[Any], shared: ServerState, streams: dict[int, Any], served: int
    ) -> None:
        """The records of one poll, after the `served` requests the poll started itself."""
        for item in items:
            if type(item) is Request:
                served += 1
                try:
                    HTTPCycle(item, shared).begin()
                except Exception as exc:  # a bug of the server's, not the app's: answer, go on
                    dispatch_failed(item, exc)
            else:
                kind, stream_id, body, more = item
                waiting = streams.get(stream_id)
                if waiting is not None:
                    waiting.on_record(kind, body, more)
        if served:
            self.served += served
            limit = self.config.max_requests
            if (
                limit is not None
                and self.served >= limit
                and self._stop is not None
                and not self._stop.is_set()
            ):
                logger.info("Served %d requests (max_requests): shutting down", self.served)
                self._stop.set()


# Servers of this process inside _frozen_heap() (servers may run side by side), and whether the
# first of them froze the heap.
_freezers = 0
_we_froze = False


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Config.gc_freeze: what exists before serving (the app and its imports: most of the heap,
    and long-lived) is out of the cyclic collector's sight until the last server of the process
    stops. A full collection walks every object the collector tracks: with the app's heap in
    sight each takes milliseconds to tens of milliseconds, and they come often where requests
    wait (their objects outlive the youngest generation), which is what their p99 latency was
    made of. Garbage is collected first, so that none is kept. A heap someone else froze already
    is left as it is."""
    global _freezers, _we_froze  # noqa: PLW0603
    if _freezers == 0:
        _we_froze = not gc.get_freeze_count()
        if _we_froze:
            gc.collect()
            gc.freeze()
    _freezers += 1
    try:
        yield
    finally:
        _freezers -= 1
        if _freezers == 0 and _we_froze:
            gc.unfreeze()  # (the final collection at exit included)


def _anyio_worker(loop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """Calls a function as anyio's worker threads do: with the thread claimed for `loop`, so that
    `anyio.from_thread.run()` and `run_sync()` inside it find their way back to the loop."""
    try:
        from anyio._backends._asyncio import AsyncIOBackend  # noqa: PLC0415 - what anyio.to_thread does
        from anyio._core._eventloop import claim_worker_thread  # noqa: PLC0415
    except ImportError:  # another anyio: calls work, from_thread does not
        return lambda func, *args: func(*args)

    def in_worker(func: Callable[..., Any], *args: Any) -> Any:
        with claim_worker_thread(AsyncIOBackend, loop):
            return func(*args)

    return in_worker


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind in ("auto", "uvloop"):
        try:
            uvloop = importlib.import_module("uvloop")  # optional: not a dependency
        except ImportError:
            if kind == "uvloop":
                raise
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def serve(
    app: ASGIApp, config: Config | None = None, *, ready: Callable[[int], None] | None = None, **options: Any
) -> None:
    """Serves `app` in this process until SIGINT or SIGTERM (blocking). Unless logging was set up
    for the "fasterapi" loggers, they write to stderr (the access log to stdout) at `log_level`."""
    server = Server(app, config, **options)
    if not logging.getLogger("fasterapi").handlers:
        configure_logging(server.config.log_level, server.config.access_log)
    loop = new_event_loop(server.config.loop)
    try:
        loop.run_until_complete(server.serve(ready))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
