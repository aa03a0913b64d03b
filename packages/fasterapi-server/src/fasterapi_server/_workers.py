"""The process model: one process serving the app, or a supervisor and its worker processes.

`run()` serves in this process when it can (one worker, no reload, no max_requests). Otherwise
this process becomes a supervisor that imports nothing of the app: it starts each worker as a
fresh interpreter (`python -c`, the target and the Config as JSON on argv) and keeps the count
up. Each worker binds its own SO_REUSEPORT sockets, so they share the port without the supervisor
holding one. A Unix domain socket (uds) is made once, by the supervisor, and every worker listens on
it (it is passed to them as fd); an inherited socket (fd) is passed on the same way.

A worker talks back on a pipe of its own (the status pipe): one JSON line when it serves
({"ready": port}), or the reason its app could not be loaded ({"error": text}); EOF means it is
gone. It watches a second pipe shared by all (the alive pipe) whose write end only the supervisor
holds: EOF there means the supervisor died, and the worker stops itself gracefully.

Restart policy: a worker that exits by itself is replaced (exit 0 after max_requests, quietly; a
crash, with a warning). A worker that dies before it serves is a startup failure: an app that
cannot be imported stops everything at once (exit 1), any other startup failure is retried after
a growing pause and stops everything after MAX_STARTUP_FAILURES in a row. With reload, a startup
failure waits for the next file change instead. Signals: SIGTERM or SIGINT go to every worker,
the supervisor waits for them (they shut down gracefully; SIGKILL past the shutdown timeout plus
STOP_GRACE), then exits 0; a second one kills them at once. SIGHUP replaces the workers one by
one, each new one serving before the old one is asked to stop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import random
import select
import signal
import stat
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from types import FrameType
from typing import Any

from fasterapi_server._config import LOG_LEVELS, Config, OptionError
from fasterapi_server._listen import UnixListener

logger = logging.getLogger("fasterapi.supervisor")

# Worker exit codes the supervisor understands (gunicorn's numbers).
EXIT_STARTUP_FAILED = 3  # the lifespan startup failed (fasterapi_server._serve exits with it)
EXIT_APP_LOAD_ERROR = 4  # the target could not be imported: retrying cannot help

MAX_STARTUP_FAILURES = 5  # workers dying before serving, in a row, before the supervisor gives up
BACKOFF_FIRST = 0.25  # seconds before a restart once deaths come close together; doubles each time
BACKOFF_MAX = 5.0  # a crash-looping app restarts at most this slowly, not slower
DEATH_WINDOW = 10.0  # seconds: deaths closer than this to each other count together for the backoff
STOP_GRACE = 10.0  # seconds past shutdown_timeout for the lifespan shutdown before SIGKILL
TICK = 1.0  # the supervisor's longest sleep: a fallback for a missed wake-up


# ---- loading the app


class AppLoadError(Exception):
    """The target names no app: its message is the one line shown to the user."""


def split_import_string(target: str) -> tuple[str, str]:
    module_name, _, attrs = target.partition(":")
    if not module_name or not attrs:
        raise AppLoadError(f'Import string "{target}" must be in format "<module>:<attribute>".')
    return module_name, attrs


def check_import_string(target: str) -> None:
    """What can be known of `target` without running any of its code: its form, and that its
    top-level module exists (the supervisor imports nothing of the app)."""
    module_name, _ = split_import_string(target)
    top = module_name.partition(".")[0]
    if importlib.util.find_spec(top) is None:
        raise AppLoadError(f'Could not import module "{module_name}".')


def import_from_string(target: str) -> Any:
    """The object `module:attr` (or `module:attr.sub`) names, as uvicorn finds it."""
    module_name, attrs = split_import_string(target)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the target itself (or a package above it) missing is the user's typo; a module the
        # app imports being missing is the app's error, shown with its traceback.
        if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
            raise
        raise AppLoadError(f'Could not import module "{module_name}".') from None
    obj: Any = module
    try:
        for attr in attrs.split("."):
            obj = getattr(obj, attr)
    except AttributeError:
        raise AppLoadError(f'Attribute "{attrs}" not found in module "{module_name}".') from None
    return obj


def add_import_paths(app_dir: str) -> None:
    """The current directory and app_dir become importable, first, as with uvicorn."""
    for path in (os.getcwd(), os.path.abspath(app_dir)):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)


def load_app(target: str, *, factory: bool = False) -> Any:
    app = import_from_string(target)
    if factory:
        if not callable(app):
            raise AppLoadError(f'The factory "{target}" is not callable.')
        app = app()
    if not callable(app):
        raise AppLoadError(f'"{target}" is not an ASGI application (it is not callable).')
    return app


# ---- logging


class _Formatter(logging.Formatter):
    """uvicorn's plain format: "INFO:     message", the level padded to one width."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"{record.levelname}:".ljust(9)
        return f"{prefix} {super().format(record)}"


def configure_logging(log_level: str, access_log: bool) -> None:
    """The "fasterapi" loggers write to stderr at `log_level`; "fasterapi.access" writes to stdout,
    or nothing when access_log is off. Calling it again replaces what it set up."""
    try:
        level = LOG_LEVELS[log_level.lower()]
    except KeyError:
        raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}") from None
    logging.addLevelName(5, "TRACE")
    for name, stream in (("fasterapi", sys.stderr), ("fasterapi.access", sys.stdout)):
        log = logging.getLogger(name)
        for handler in [h for h in log.handlers if getattr(h, "_fasterapi", False)]:
            log.removeHandler(handler)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(_Formatter("%(message)s"))
        handler._fasterapi = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.setLevel(level)
        log.propagate = False
    # isEnabledFor() is False on a disabled logger: the server can skip formatting access records.
    logging.getLogger("fasterapi.access").disabled = not access_log


# ---- the entry point


def run(
    target: Any,
    config: Config,
    *,
    workers: int = 1,
    reload: bool = False,
    reload_dirs: list[str] | None = None,
    max_requests_jitter: int = 0,
    app_dir: str = ".",
    factory: bool = False,
) -> None:
    """Serves `target` ("module:attr", or an app object when one process serves it) until SIGINT or
    SIGTERM. Raises OptionError for options that cannot work (before anything else), SystemExit with
    a non-zero code when the app cannot be served."""
    if workers < 1:
        raise OptionError(f"workers must be at least 1, not {workers}")
    if max_requests_jitter < 0:
        raise OptionError(f"max_requests_jitter must be at least 0, not {max_requests_jitter}")
    for directory in reload_dirs or ():
        if not os.path.isdir(directory):
            raise OptionError(f"reload_dirs: {directory!r} is not a directory")
    supervised = workers > 1 or reload or config.max_requests is not None
    if supervised and not isinstance(target, str):
        raise OptionError("workers, reload and max_requests need the app as an import string ('module:attr')")
    if config.fd is not None:  # (checked here: a supervisor passes it to every worker it starts)
        try:
            given = os.fstat(config.fd)
        except OSError:
            raise OptionError(f"fd {config.fd} is not an open file descriptor") from None
        if not stat.S_ISSOCK(given.st_mode):
            raise OptionError(f"fd {config.fd} is not a socket")
    if workers > 1 and config.port == 0 and config.uds is None and config.fd is None:
        raise OptionError(
            "port 0 would give each worker a port of its own: choose a port for several workers"
        )
    configure_logging(config.log_level, config.access_log)
    add_import_paths(app_dir)
    app: Any = None if isinstance(target, str) else target
    try:
        if app is None:
            check_import_string(target)
            if not supervised:
                app = load_app(target, factory=factory)
        elif factory:
            app = app()
    except AppLoadError as exc:
        logger.error("Error loading ASGI app. %s", exc)
        raise SystemExit(1) from None
    if not supervised:
        from fasterapi_server._serve import serve  # noqa: PLC0415  (the engine loads only to serve)

        serve(app, config)
        return
    watcher = None
    if reload:
        from fasterapi_server._reload import Reloader  # noqa: PLC0415  (only with reload)

        watcher = Reloader([os.path.abspath(d) for d in (reload_dirs or [app_dir])])
    unix: UnixListener | None = None
    if config.uds is not None:  # made here, once: the workers listen on it (as fd)
        try:
            unix = UnixListener(config.uds)
        except OSError as exc:
            logger.error("%s", exc)
            raise SystemExit(1) from None
        shared = dataclasses.replace(config, uds=None, fd=unix.fileno())
    elif config.fd is not None:
        shared = config
    else:
        # Workers share the port, and during a SIGHUP restart old and new ones serve side by side.
        shared = dataclasses.replace(config, reuse_port=True)
    spec = {
        "target": target,
        "factory": factory,
        "app_dir": os.path.abspath(app_dir),
        "max_requests_jitter": max_requests_jitter,
        "config": dataclasses.asdict(shared),
    }
    try:
        code = Supervisor(spec, config, workers, watcher).run()
    finally:
        if unix is not None:
            unix.close()
    if code:
        raise SystemExit(code)


# ---- the supervisor


@dataclasses.dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen[bytes]
    status: int  # the read end of its status pipe; -1 once closed
    buffer: bytes = b""
    ready: bool = False
    retiring: bool = False  # on its way out: not counted among the workers wanted
    kill_at: float | None = None  # set once asked to stop: SIGKILL past it
    error: str | None = None  # why its app could not be loaded

    @property
    def pid(self) -> int:
        return self.proc.pid


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    def __init__(self, spec: dict[str, Any], config: Config, count: int, watcher: Any = None) -> None:
        self.spec = spec
        listen_fd = spec["config"].get("fd")  # the socket every worker listens on, if given
        self.listen_fds = () if listen_fd is None else (listen_fd,)
        self.count = count
        self.watcher = watcher
        self.stop_timeout = config.shutdown_timeout + STOP_GRACE
        self.workers: list[_Worker] = []
        self.signals: list[int] = []
        self.stopping = False
        self.exit_code = 0
        self.next_spawn = 0.0
        self.deaths: deque[float] = deque()
        self.startup_failures = 0
        self.waiting_for_change = False  # with reload: the app is broken until a file changes
        self.hold_spawns = False  # a reload restart: the old workers leave before new ones start
        self.rolling: list[_Worker] = []  # SIGHUP: old workers still to replace, one at a time
        self.last_error: str | None = None
        self._wake_r, self._wake_w = os.pipe()
        self._alive_r, self._alive_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)

    # ---- the loop

    def run(self) -> int:
        logger.info("Started supervisor process [%d]", os.getpid())
        previous = self._install_signals()
        if self.watcher is not None:
            self.watcher.start(self._wake)
        try:
            while True:
                self._tick()
                if self.stopping and not self.workers:
                    break
                self._wait()
        finally:
            if self.watcher is not None:
                self.watcher.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            for fd in (self._wake_r, self._wake_w, self._alive_r, self._alive_w):
                os.close(fd)
        if self.exit_code == 0:
            logger.info("Stopped supervisor process [%d]", os.getpid())
        return self.exit_code

    def _install_signals(self) -> dict[int, Any]:
        def on_signal(sig: int, frame: FrameType | None) -> None:
            self.signals.append(sig)

        previous: dict[int, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            previous[sig] = signal.signal(sig, on_signal)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        return previous

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_w, b"\0")

    def _wait(self) -> None:
        now = time.monotonic()
        deadlines = [now + TICK]
        if len(self._serving()) < self.count and not self.stopping and self.next_spawn > now:
            deadlines.append(self.next_spawn)
        deadlines += [w.kill_at for w in self.workers if w.kill_at is not None]
        if any(w.status < 0 for w in self.workers):
            deadlines.append(now + 0.02)  # its pipe closed: it is about to be reaped
        timeout = max(0.0, min(deadlines) - now)
        fds = [self._wake_r] + [w.status for w in self.workers if w.status >= 0]
        with contextlib.suppress(InterruptedError):
            readable, _, _ = select.select(fds, [], [], timeout)
            if self._wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._wake_r, 4096):
                        pass
            for worker in self.workers:
                if worker.status in readable:
                    self._read_status(worker)

    def _tick(self) -> None:
        signals, self.signals = self.signals, []
        for sig in signals:
            self._on_signal(sig)
        for worker in list(self.workers):
            returncode = worker.proc.poll()
            if returncode is not None:
                if worker.status >= 0:
                    self._read_status(worker)  # what it said before leaving
                self._on_exit(worker, returncode)
        if self.watcher is not None and not self.stopping:
            changed = self.watcher.changes()
            if changed:
                self._on_change(changed)
        now = time.monotonic()
        for worker in self.workers:
            if worker.kill_at is not None and now >= worker.kill_at:
                logger.warning("Worker process [%d] did not stop in time: killing it", worker.pid)
                worker.proc.kill()
                worker.kill_at = None
        if self.stopping:
            return
        self._roll()
        if self.hold_spawns and any(w.retiring for w in self.workers):
            return
        self.hold_spawns = False
        while len(self._serving()) < self.count and not self.waiting_for_change and now >= self.next_spawn:
            self._spawn()

    def _serving(self) -> list[_Worker]:
        return [w for w in self.workers if not w.retiring]

    # ---- events

    def _on_signal(self, sig: int) -> None:
        if sig in (signal.SIGINT, signal.SIGTERM):
            if self.stopping:
                logger.warning("Received %s again: killing the workers", signal.Signals(sig).name)
                for worker in self.workers:
                    worker.proc.kill()
                return
            logger.info("Received %s: stopping the workers", signal.Signals(sig).name)
            self._stop_all(sig)
        elif sig == signal.SIGHUP and not self.stopping:
            logger.info("Received SIGHUP: restarting the workers one by one")
            self.waiting_for_change = False
            self.rolling = self._serving()

    def _on_change(self, changed: list[str]) -> None:
        shown = ", ".join(os.path.relpath(p) for p in changed[:3]) + (" ..." if len(changed) > 3 else "")
        logger.warning("Changes detected in %s: reloading", shown)
        self.waiting_for_change = False
        self.startup_failures = 0
        self.next_spawn = 0.0
        self.rolling = []
        for worker in self._serving():
            self._ask_to_stop(worker, signal.SIGTERM)
        self.hold_spawns = True

    def _on_exit(self, worker: _Worker, returncode: int) -> None:
        self.workers.remove(worker)
        if worker.status >= 0:
            os.close(worker.status)
            worker.status = -1
        if worker.retiring or self.stopping:
            log = logger.warning if returncode == -signal.SIGKILL else logger.info
            if self.exit_code:  # giving up: the reason was told, the rest is noise
                log = logger.debug
            log("Worker process [%d] stopped (%s)", worker.pid, _describe(returncode))
            return
        if worker.ready and returncode == 0:
            logger.info("Worker process [%d] finished its requests: starting a new one", worker.pid)
            return
        now = time.monotonic()
        self.deaths.append(now)
        while self.deaths and self.deaths[0] < now - DEATH_WINDOW:
            self.deaths.popleft()
        if worker.ready:
            logger.warning(
                "Worker process [%d] died (%s): starting another", worker.pid, _describe(returncode)
            )
        else:
            self._on_startup_failure(worker, returncode)
            if self.stopping or self.waiting_for_change:
                return
        if len(self.deaths) > 1:
            delay = min(BACKOFF_FIRST * 2 ** (len(self.deaths) - 2), BACKOFF_MAX)
            self.next_spawn = max(self.next_spawn, now + delay)
            logger.info("Workers are dying: waiting %.2f s before starting the next one", delay)

    def _on_startup_failure(self, worker: _Worker, returncode: int) -> None:
        if worker.error is not None and worker.error != self.last_error:
            logger.error("%s", worker.error)
        self.last_error = worker.error
        if self.watcher is not None:
            if not self.waiting_for_change:
                logger.error(
                    "Worker process [%d] failed to start (%s): waiting for file changes before restarting",
                    worker.pid,
                    _describe(returncode),
                )
            self.waiting_for_change = True
            return
        self.startup_failures += 1
        if returncode == EXIT_APP_LOAD_ERROR:
            self._give_up(1)
        elif self.startup_failures >= MAX_STARTUP_FAILURES:
            logger.error(
                "Worker process [%d] failed to start (%s), %d times in a row: giving up",
                worker.pid,
                _describe(returncode),
                self.startup_failures,
            )
            self._give_up(returncode if returncode > 0 else 1)
        else:
            logger.warning("Worker process [%d] failed to start (%s)", worker.pid, _describe(returncode))

    def _read_status(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.status, 65536)
        except BlockingIOError:
            return
        if not data:
            os.close(worker.status)
            worker.status = -1
            return
        worker.buffer += data
        *lines, worker.buffer = worker.buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "ready" in message and not worker.ready:
                worker.ready = True
                self.startup_failures = 0
                self.last_error = None
            elif "error" in message:
                worker.error = str(message["error"])

    # ---- actions

    def _spawn(self) -> None:
        status_r, status_w = os.pipe()
        spec = dict(self.spec, status_fd=status_w, alive_fd=self._alive_r)
        code = "from fasterapi_server._workers import worker_main; raise SystemExit(worker_main())"
        passed = (status_w, self._alive_r, *self.listen_fds)
        try:
            proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)], pass_fds=passed)
        finally:
            os.close(status_w)
        os.set_blocking(status_r, False)
        self.workers.append(_Worker(proc, status_r))
        logger.info("Started worker process [%d]", proc.pid)

    def _ask_to_stop(self, worker: _Worker, sig: int) -> None:
        worker.retiring = True
        if worker.kill_at is None:
            worker.kill_at = time.monotonic() + self.stop_timeout
        with contextlib.suppress(ProcessLookupError):
            worker.proc.send_signal(sig)

    def _stop_all(self, sig: int) -> None:
        self.stopping = True
        for worker in self.workers:
            self._ask_to_stop(worker, sig)

    def _give_up(self, code: int) -> None:
        self.exit_code = code
        self._stop_all(signal.SIGTERM)

    def _roll(self) -> None:
        """One step of a SIGHUP restart: the oldest worker left is marked to retire (its replacement
        starts), and asked to stop once every worker wanted is serving."""
        while self.rolling and self.rolling[0] not in self.workers:
            self.rolling.pop(0)
        if not self.rolling:
            return
        old = self.rolling[0]
        if not old.retiring:
            old.retiring = True
        elif old.kill_at is None:
            serving = self._serving()
            if len(serving) == self.count and all(w.ready for w in serving):
                self._ask_to_stop(old, signal.SIGTERM)


# ---- the worker side


def worker_main(argv: list[str] | None = None) -> int:
    """A worker process: loads the app and serves it until asked to stop (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    status_fd: int = spec["status_fd"]
    alive_fd: int = spec["alive_fd"]
    for fd in (status_fd, alive_fd):
        os.set_inheritable(fd, False)  # the app's own subprocesses do not hold them
    # Until the server installs its handlers, Ctrl-C in the terminal stops the worker quietly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    config = Config.from_kwargs(**spec["config"])
    if config.fd is not None:
        os.set_inheritable(config.fd, False)  # (the engine listens on a duplicate; nobody else needs it)
    if config.max_requests is not None:  # workers are not all replaced at once
        config.max_requests += random.randint(0, spec["max_requests_jitter"])
    configure_logging(config.log_level, config.access_log)
    threading.Thread(target=_watch_supervisor, args=(alive_fd,), name="fasterapi-orphan", daemon=True).start()

    def tell(message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            os.write(status_fd, json.dumps(message).encode() + b"\n")

    add_import_paths(spec["app_dir"])
    try:
        app = load_app(spec["target"], factory=spec["factory"])
    except AppLoadError as exc:
        tell({"error": f"Error loading ASGI app. {exc}"})
        return EXIT_APP_LOAD_ERROR
    except Exception as exc:  # the app's own import error (a SyntaxError...): the supervisor shows it
        tell({"error": f"Error loading ASGI app:\n{_app_traceback(exc)}"})
        return EXIT_APP_LOAD_ERROR

    from fasterapi_server._serve import serve  # noqa: PLC0415  (after the app: its import errors first)

    serve(app, config, ready=lambda port: tell({"ready": port}))
    return 0


def _app_traceback(exc: BaseException) -> str:
    """The traceback from the app's frames on: the import machinery's and this module's are noise."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename != __file__
        and not frame.filename.startswith("<frozen importlib")
        and not frame.filename.endswith(os.path.join("importlib", "__init__.py"))
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    return "".join(lines + traceback.format_exception_only(exc)).rstrip()


def _watch_supervisor(alive_fd: int) -> None:
    """Blocks until the supervisor is gone (EOF on the alive pipe), then stops this worker gracefully."""
    with contextlib.suppress(OSError):
        while os.read(alive_fd, 1):
            pass
    logger.warning("The supervisor is gone: stopping worker process [%d]", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
