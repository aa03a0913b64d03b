"""The process model (fasterapi_server._workers, _reload): real processes on real sockets.

A supervisor runs in its own interpreter (`python -c` calling _workers.run on tests/apps/), its
workers answer their PID; every wait is bounded, and every process started here is stopped by
its PID.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
from fasterapi_server._reload import Reloader
from fasterapi_server._workers import (
    MAX_STARTUP_FAILURES,
    AppLoadError,
    configure_logging,
    import_from_string,
    load_app,
)
from helpers import IO_IDS, IO_THREADS, poll_until

APPS = Path(__file__).parent / "apps"
TIMEOUT = 20.0  # seconds any single wait may take: worker startups on two shared cores


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str = "/") -> str | None:
    """The body of GET `path` on a new connection, or None when nothing answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.read().decode() if response.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet, an orphan's under some init, is not)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


class Supervised:
    """`_workers.run(target, Config(port=...), **options)` in a process of its own, cwd tests/apps."""

    def __init__(self, target: str, cwd: Path = APPS, pass_fds: Collection[int] = (), **options: Any) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        config = {"port": self.port, "threads": 1, "shutdown_timeout": 5.0}
        config.update(options.pop("config", {}))
        code = (
            "import json, sys\n"
            "from fasterapi_server import Config\n"
            "from fasterapi_server._workers import run\n"
            "run(sys.argv[1], Config(**json.loads(sys.argv[2])), **json.loads(sys.argv[3]))\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, target, json.dumps(config), json.dumps(options)],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            pass_fds=tuple(pass_fds),
        )
        self.seen: set[int] = set()  # every worker PID that answered: stopped at the end if left

    def pid_of_a_worker(self) -> int | None:
        body = get(self.port)
        if body is None:
            return None
        self.seen.add(int(body))
        return int(body)

    def pids(self, count: int, exclude: Collection[int] = (), timeout: float = TIMEOUT) -> set[int]:
        """`count` different worker PIDs not in `exclude`, asking on new connections until seen."""
        found: set[int] = set()

        def enough() -> bool:
            pid = self.pid_of_a_worker()
            if pid is not None and pid not in exclude:
                found.add(pid)
            return len(found) >= count

        poll_until(
            enough,
            timeout,
            what=lambda: f"{count} workers answering, {sorted(found)} so far\n{self.stderr()}",
        )
        return found

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def exit_code(self, timeout: float = TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the supervisor did not exit\n{self.stderr()}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
        for pid in self.seen:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def supervised() -> Iterator[Callable[..., Supervised]]:
    started: list[Supervised] = []

    def start(target: str, **options: Any) -> Supervised:
        started.append(Supervised(target, **options))
        return started[-1]

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


# ---- loading the app


def test_import_from_string_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(APPS))
    assert callable(import_from_string("pid_app:app"))
    assert callable(load_app("pid_app:create_app", factory=True))
    cases = {
        "pid_app": 'Import string "pid_app" must be in format "<module>:<attribute>".',
        "pid_app:": 'Import string "pid_app:" must be in format "<module>:<attribute>".',
        "no_such_module:app": 'Could not import module "no_such_module".',
        "no_such_package.sub:app": 'Could not import module "no_such_package.sub".',
        "pid_app:nope": 'Attribute "nope" not found in module "pid_app".',
        "pid_app:app.nope": 'Attribute "app.nope" not found in module "pid_app".',
    }
    for target, message in cases.items():
        with pytest.raises(AppLoadError) as info:
            load_app(target)
        assert str(info.value) == message
    with pytest.raises(AppLoadError, match="not an ASGI application"):
        load_app("pid_app:os")


def test_a_module_the_app_imports_missing_is_the_apps_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needs_dep.py").write_text("import no_such_dependency_here\napp = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_here"):
        import_from_string("needs_dep:app")


def test_log_format_is_uvicorns(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        configure_logging("info", access_log=False)
        logging.getLogger("fasterapi.server").info("hello")
        logging.getLogger("fasterapi.server").debug("not shown")
        logging.getLogger("fasterapi.access").info("no access log")
        configure_logging("debug", access_log=True)
        logging.getLogger("fasterapi.server").warning("careful")
        logging.getLogger("fasterapi.access").info('127.0.0.1:5000 - "GET / HTTP/1.1" 200')
        captured = capsys.readouterr()
        assert captured.err == "INFO:     hello\nWARNING:  careful\n"  # set up twice: one handler
        assert captured.out == 'INFO:     127.0.0.1:5000 - "GET / HTTP/1.1" 200\n'
        with pytest.raises(ValueError, match="log_level"):
            configure_logging("loud", access_log=False)
    finally:
        for name in ("fasterapi", "fasterapi.access"):
            log = logging.getLogger(name)
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.setLevel(logging.NOTSET)
            log.propagate = True
            log.disabled = False


# ---- the reloader


def test_reloader_polls_python_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fasterapi_server._reload._has_watchfiles", lambda: False)
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("a\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "old.py").write_text("")
    reloader = Reloader([str(tmp_path)])
    woken: list[bool] = []
    reloader.start(lambda: woken.append(True))
    try:
        time.sleep(0.6)
        (tmp_path / "notes.txt").write_text("b\n")
        (tmp_path / "__pycache__" / "cached.py").write_text("")
        assert reloader.changes() == []
        os.utime(tmp_path / "app.py", (time.time() + 5, time.time() + 5))
        (tmp_path / "pkg" / "new.py").write_text("")
        (tmp_path / "pkg" / "old.py").unlink()
        expected = sorted(str(tmp_path / p) for p in ("app.py", "pkg/new.py", "pkg/old.py"))
        changed: list[str] = []
        poll_until(lambda: changed.extend(reloader.changes()) or len(changed) >= 3, 5, what="the changes")
        assert sorted(changed) == expected
        assert woken
    finally:
        reloader.stop()


# ---- one process


def test_one_worker_serves_in_the_supervisors_process(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:app")
    (pid,) = server.pids(1)
    assert pid == server.proc.pid
    server.proc.send_signal(signal.SIGTERM)
    assert server.exit_code() == 0


def test_one_process_with_a_bad_import_string(supervised: Callable[..., Supervised]) -> None:
    server = supervised("no_such_module:app")
    assert server.exit_code() == 1
    errors = [line for line in server.stderr().splitlines() if line.startswith("ERROR:")]
    assert errors == ['ERROR:    Error loading ASGI app. Could not import module "no_such_module".']


# ---- workers


@pytest.mark.parametrize("threads", IO_THREADS, ids=IO_IDS)
def test_workers_share_the_port_and_a_killed_one_is_replaced(
    supervised: Callable[..., Supervised], threads: int
) -> None:
    server = supervised("pid_app:app", workers=2, config={"threads": threads})
    first = server.pids(2)
    assert server.proc.pid not in first
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    poll_until(lambda: not alive(victim) or None, TIMEOUT, what="the killed worker to be reaped")
    (newcomer,) = server.pids(1, exclude=first)  # the other worker answers meanwhile, and the new one
    assert server.pids(2) == {max(first), newcomer}
    assert "died (signal SIGKILL)" in server.stderr()

    server.proc.send_signal(signal.SIGTERM)
    assert server.exit_code() == 0
    for pid in server.seen:
        assert not alive(pid)
    assert get(server.port) is None


def test_workers_listen_on_an_inherited_socket(supervised: Callable[..., Supervised]) -> None:
    # fd: a socket made by whoever started the supervisor (systemd's socket activation), passed on
    # to every worker. Each serves on it: while the one that answered cannot take connections, the
    # other does. The socket stays its owner's: still listening after the supervisor is gone.
    with socket.create_server(("127.0.0.1", 0)) as given:
        port = given.getsockname()[1]
        server = supervised(
            "pid_app:app", workers=2, config={"fd": given.fileno()}, pass_fds=[given.fileno()]
        )
        server.port = port  # (what get() asks: the given socket's, not the one Supervised chose)
        (first,) = server.pids(1)
        os.kill(first, signal.SIGSTOP)
        try:
            (other,) = server.pids(1, exclude={first})
        finally:
            os.kill(first, signal.SIGCONT)
        assert server.proc.pid not in (first, other)
        server.proc.send_signal(signal.SIGTERM)
        assert server.exit_code() == 0
        assert not alive(first)
        assert not alive(other)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # (queued in the owner's backlog: nobody accepts it now, but it is listening)


def test_sigint_stops_the_workers_too(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:app", workers=2)
    pids = server.pids(2)
    server.proc.send_signal(signal.SIGINT)
    assert server.exit_code() == 0
    assert not any(alive(pid) for pid in pids)


def test_a_worker_that_exits_by_itself_is_replaced(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:app", workers=2)
    first = server.pids(2)
    leaving = int(poll_until(lambda: get(server.port, "/exit"), TIMEOUT, what="an answer to /exit"))
    poll_until(lambda: not alive(leaving) or None, TIMEOUT, what="the worker to leave")
    server.pids(1, exclude=first)
    assert f"Worker process [{leaving}] finished its requests" in server.stderr()


def test_sighup_replaces_every_worker(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:app", workers=2)
    first = server.pids(2)
    server.proc.send_signal(signal.SIGHUP)
    poll_until(lambda: not any(alive(pid) for pid in first) or None, TIMEOUT, what="the old workers to leave")
    assert len(server.pids(2, exclude=first)) == 2
    assert server.proc.poll() is None


def test_max_requests_replaces_the_worker(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:app", config={"max_requests": 3})
    (first,) = server.pids(1)
    assert first != server.proc.pid  # a supervisor, to replace the worker
    answers = [get(server.port) for _ in range(2)]  # the 2nd and 3rd
    assert answers == [str(first)] * 2
    (second,) = server.pids(1, exclude={first})
    assert not alive(first)
    assert "finished its requests" in server.stderr()
    assert second != first


def test_factory(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:create_app", workers=2, factory=True)
    assert len(server.pids(2)) == 2


def test_workers_with_a_bad_import_string_stop_at_once(supervised: Callable[..., Supervised]) -> None:
    server = supervised("no_such_module:app", workers=2)
    assert server.exit_code() == 1
    log = server.stderr()
    assert log.count('ERROR:    Error loading ASGI app. Could not import module "no_such_module".\n') == 1
    assert "Traceback" not in log


def test_workers_failing_at_startup_end_in_giving_up(
    supervised: Callable[..., Supervised],
) -> None:
    started = time.monotonic()
    server = supervised("startup_fails:app", workers=2)
    assert server.exit_code() == 3  # the lifespan's startup failure
    assert time.monotonic() - started < TIMEOUT
    log = server.stderr()
    # The other worker may still be starting when the last failure ends it all.
    assert MAX_STARTUP_FAILURES <= log.count("Started worker process") <= MAX_STARTUP_FAILURES + 1
    assert "times in a row: giving up" in log
    assert "Workers are dying: waiting" in log  # not a fork bomb


def test_workers_stop_when_the_supervisor_is_killed(supervised: Callable[..., Supervised]) -> None:
    server = supervised("pid_app:app", workers=2)
    pids = server.pids(2)
    server.proc.kill()
    server.proc.wait(TIMEOUT)
    poll_until(lambda: not any(alive(pid) for pid in pids), TIMEOUT, what="the orphaned workers to stop")


def test_reload_restarts_the_worker(supervised: Callable[..., Supervised], tmp_path: Path) -> None:
    shutil.copy(APPS / "pid_app.py", tmp_path / "reloaded.py")
    server = supervised("reloaded:app", cwd=tmp_path, reload=True)
    (first,) = server.pids(1)
    time.sleep(0.6)  # the first scan of the files
    with (tmp_path / "reloaded.py").open("a") as file:
        file.write("\n# edited\n")
    (second,) = server.pids(1, exclude={first})
    poll_until(lambda: not alive(first) or None, TIMEOUT, what="the old worker to leave")
    assert "Changes detected in reloaded.py: reloading" in server.stderr()

    # A broken edit: the worker fails, the supervisor waits for the fix.
    (tmp_path / "reloaded.py").write_text("def broken(:\n")
    poll_until(lambda: "waiting for file changes" in server.stderr(), TIMEOUT, what="the failure to show")
    assert "SyntaxError" in server.stderr()
    assert server.proc.poll() is None
    shutil.copy(APPS / "pid_app.py", tmp_path / "reloaded.py")
    server.pids(1, exclude={first, second})

    server.proc.send_signal(signal.SIGTERM)
    assert server.exit_code() == 0


def test_run_refuses_what_it_cannot_do() -> None:
    from fasterapi_server import Config, OptionError
    from fasterapi_server._workers import run

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise NotImplementedError

    with pytest.raises(ValueError, match="import string"):
        run(app, Config(), workers=2)
    with pytest.raises(ValueError, match="import string"):
        run(app, Config(), reload=True)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        run("m:app", Config(), workers=0)
    with pytest.raises(ValueError, match="port 0"):
        run("m:app", Config(port=0), workers=2)
    with pytest.raises(OptionError, match="max_requests_jitter must be at least 0"):
        run("m:app", Config(), max_requests_jitter=-1)
    with pytest.raises(OptionError, match="is not a directory"):
        run("m:app", Config(), reload=True, reload_dirs=["/no/such/dir"])
    with pytest.raises(OptionError, match="import string"):
        run(app, Config(max_requests=1))
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        with pytest.raises(OptionError, match=f"fd {read_end} is not a socket"):
            run("m:app", Config(fd=read_end), workers=2)
    finally:
        os.close(read_end)
    with pytest.raises(OptionError, match=f"fd {write_end} is not an open file descriptor"):
        run("m:app", Config(fd=write_end), workers=2)
