"""`fasterapi run` (fasterapi.cli) and `fasterapi.run()`: real processes on real sockets.

The apps are in tests/apps/; every wait is bounded, and every process started here is stopped by
its PID.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import pytest

APPS = Path(__file__).parent / "apps"
FASTERAPI = Path(sys.executable).parent / "fasterapi"  # the console script beside this interpreter
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


def get_unix(path: Path, target: str = "/") -> str | None:
    """get() over the Unix domain socket at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(str(path))
            sock.sendall(f"GET {target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    return body.decode() if head.startswith(b"HTTP/1.1 200 ") else None


def wait_until(condition: Callable[[], Any], what: str | Callable[[], str], timeout: float = TIMEOUT) -> Any:
    """condition()'s first true result; `what` (or what it returns, then) names it in the failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet, an orphan's under some init, is not)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def cli(*args: str, cwd: Path = APPS) -> subprocess.CompletedProcess[str]:
    """`fasterapi ARGS` to its end (commands that exit by themselves)."""
    if not FASTERAPI.exists():
        pytest.skip("the fasterapi console script is not installed")
    return subprocess.run(
        [str(FASTERAPI), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


class Running:
    """`fasterapi run APP --port P ARGS` in the background, cwd tests/apps (or `cwd`)."""

    def __init__(self, app: str, *args: str, cwd: Path = APPS, module: bool = False) -> None:
        if not module and not FASTERAPI.exists():
            pytest.skip("the fasterapi console script is not installed")
        self.port = free_port()
        command = [sys.executable, "-m", "fasterapi"] if module else [str(FASTERAPI)]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [*command, "run", app, "--port", str(self.port), "--threads", "1", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.seen: set[int] = set()  # every PID that answered: stopped at the end if left

    def pids(self, count: int, exclude: Collection[int] = ()) -> set[int]:
        """`count` different PIDs not in `exclude` answering, asking on new connections until seen."""
        found: set[int] = set()

        def enough() -> bool:
            body = get(self.port)
            if body is not None and int(body) not in exclude:
                self.seen.add(int(body))
                found.add(int(body))
            return len(found) >= count

        wait_until(enough, lambda: f"{count} PIDs answering, {sorted(found)} so far\n{self.stderr()}")
        return found

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit after SIGTERM\n{self.stderr()}") from None

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
def running() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(app: str, *args: str, **options: Any) -> Running:
        started.append(Running(app, *args, **options))
        return started[-1]

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


# ---- the command line


def test_version() -> None:
    import fasterapi

    done = cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith(f"fasterapi {fasterapi.__version__} (fasterapi-server ")
    assert cli("run", "--version").stdout == done.stdout


def test_usage() -> None:
    done = cli("run", "--help")
    assert done.returncode == 0
    for option in (
        "--host", "--port", "--workers", "--threads", "--reload", "--reload-dir", "--ssl-certfile",
        "--ssl-keyfile", "--log-level", "--access-log", "--no-access-log", "--max-requests",
        "--max-requests-jitter", "--root-path", "--lifespan", "--loop", "--timeout-graceful-shutdown",
        "--app-dir", "--factory", "--version", "--max-body-size", "--max-connections", "--max-pipelined",
        "--max-request-line", "--max-header-bytes", "--max-headers", "--timeout-keep-alive",
        "--timeout-header", "--timeout-body", "--timeout-write", "--server-header", "--reuse-port",
        "--no-reuse-port", "--executor", "--executor-threads", "--native", "--no-native", "--gc-freeze",
        "--no-gc-freeze",
    ):  # fmt: skip
        assert re.search(rf"\s{option}[\s,=]", done.stdout), option  # the whole option, not a prefix
    assert cli().returncode == 2  # no command


def test_every_server_option_has_a_flag() -> None:
    # Each field of fasterapi_server.Config is set by a flag of `fasterapi run` (the docs say so),
    # and the values reach the Config as given; flags not given leave the Config's defaults.
    import dataclasses

    from fasterapi.cli import PROCESS_OPTIONS, parser
    from fasterapi_server import Config

    given = [
        "--host", "0.0.0.0", "--port", "8123", "--threads", "3", "--reuse-port", "--lifespan", "off",
        "--loop", "asyncio", "--root-path", "/api", "--server-header", "", "--access-log",
        "--log-level", "debug", "--ssl-certfile", "c.pem", "--ssl-keyfile", "k.pem",
        "--max-body-size", "1000", "--max-connections", "7", "--max-pipelined", "2",
        "--max-request-line", "300", "--max-header-bytes", "4000", "--max-headers", "9",
        "--timeout-header", "1.5", "--timeout-keep-alive", "2.5", "--timeout-body", "3.5",
        "--timeout-write", "4.5", "--timeout-graceful-shutdown", "5.5", "--executor", "anyio",
        "--executor-threads", "6", "--max-requests", "11", "--no-native", "--no-gc-freeze",
        "--no-proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8,*",
    ]  # fmt: skip

    def config_of(*flags: str) -> Config:
        args = vars(parser().parse_args(["run", "m:app", *flags]))
        options = {k: v for k, v in args.items() if k not in (*PROCESS_OPTIONS, "command", "app")}
        return Config.from_kwargs(**options)

    defaults = Config()
    names = {f.name for f in dataclasses.fields(Config)}
    changed: set[str] = set()
    for socket_flags in (["--uds", "/run/app.sock"], ["--fd", "3"]):  # (one or the other)
        config = config_of(*given, *socket_flags)
        changed |= {name for name in names if getattr(config, name) != getattr(defaults, name)}
    assert changed == names
    assert (config_of("--uds", "/run/app.sock").uds, config_of("--fd", "3").fd) == ("/run/app.sock", 3)
    assert (config.server_header, config.keep_alive_timeout, config.header_timeout) == ("", 2.5, 1.5)
    assert (config.executor, config.native, config.gc_freeze) == ("anyio", False, False)
    assert (config.proxy_headers, config.forwarded_allow_ips) == (False, "10.0.0.0/8,*")
    untouched = vars(parser().parse_args(["run", "m:app"]))
    assert set(untouched) - {*PROCESS_OPTIONS, "command", "app", "max_requests"} == set()


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module:app", 'Could not import module "no_such_module".'),
        ("asgi_pid:nope", 'Attribute "nope" not found in module "asgi_pid".'),
        ("asgi_pid", 'Import string "asgi_pid" must be in format "<module>:<attribute>".'),
    ],
)
def test_bad_import_strings(target: str, message: str, workers: str) -> None:
    done = cli("run", target, "--workers", workers, "--port", str(free_port()))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR:    Error loading ASGI app. {message}"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "port must be 0..65535"),
        (["--workers", "0"], "workers must be at least 1"),
        (["--ssl-certfile", "cert.pem"], "ssl_certfile and ssl_keyfile go together"),
        (["--threads", "-1"], "threads must be at least 0"),
        (["--max-requests", "0"], "max_requests must be at least 1"),
        (["--max-requests-jitter", "-1"], "max_requests_jitter must be at least 0"),
        (["--timeout-graceful-shutdown", "0"], "shutdown_timeout must be more than 0"),
        (["--max-body-size", "0"], "max_body_size must be at least 1"),
        (["--max-headers", "0"], "max_headers must be at least 1"),
        (["--timeout-keep-alive", "0"], "keep_alive_timeout must be more than 0"),
        (["--timeout-header", "-1"], "header_timeout must be more than 0"),
        (["--executor-threads", "0"], "executor_threads must be at least 1"),
        (["--uds", "a.sock", "--fd", "3"], "uds and fd cannot go together"),
        (["--fd", "-1"], "fd must be at least 0"),
        (["--reload", "--reload-dir", "/no/such/dir"], "reload_dirs: '/no/such/dir' is not a directory"),
        ([], "WEB_CONCURRENCY must be a number of workers, not 'abc'"),
    ],
)
def test_bad_options(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not args:
        monkeypatch.setenv("WEB_CONCURRENCY", "abc")
    done = cli("run", "asgi_pid:app", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(f"fasterapi run: error: {message}")
    assert done.stderr.count("\n") == 1


def test_an_error_of_the_app_is_not_called_a_bad_option(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise ValueError('boom from the app')\n")
    done = cli("run", "broken:app", "--port", str(free_port()), cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert "ValueError: boom from the app" in done.stderr
    assert "fasterapi run: error" not in done.stderr


# ---- serving


def test_run_serves_until_sigterm(running: Callable[..., Running]) -> None:
    server = running("asgi_pid:app", "--app-dir", str(APPS), cwd=APPS.parent)
    assert server.pids(1) == {server.proc.pid}  # one worker: this very process
    assert server.terminate() == 0


def test_python_m_fasterapi(running: Callable[..., Running]) -> None:
    server = running("asgi_pid:create_app", "--factory", module=True)
    assert server.pids(1) == {server.proc.pid}
    assert server.terminate() == 0


def test_serves_a_fasterapi_app(running: Callable[..., Running]) -> None:
    import json

    server = running("pid_app:app")
    body = wait_until(lambda: get(server.port), lambda: f"an answer\n{server.stderr()}")
    assert json.loads(body) == {"pid": server.proc.pid}
    assert server.terminate() == 0


def test_workers(running: Callable[..., Running]) -> None:
    server = running("asgi_pid:app", "--workers", "2")
    first = server.pids(2)
    assert server.proc.pid not in first
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not alive(victim) or None, "the killed worker to be reaped")
    (newcomer,) = server.pids(1, exclude=first)
    assert server.pids(2) == {max(first), newcomer}

    assert server.terminate() == 0
    for pid in server.seen:
        assert not alive(pid)
    assert get(server.port) is None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_unix_domain_socket(running: Callable[..., Running], tmp_path: Path, workers: str) -> None:
    # --uds: one socket file, made once (the supervisor's, with workers), that any local user may
    # connect to; every worker serves on it; gone after SIGTERM. Not on the TCP port.
    path = tmp_path / "app.sock"
    server = running("asgi_pid:app", "--uds", str(path), "--workers", workers)
    first = int(wait_until(lambda: get_unix(path), lambda: f"an answer on {path}\n{server.stderr()}"))
    server.seen.add(first)
    mode = path.stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o666
    assert get(server.port) is None
    if workers == "1":
        assert first == server.proc.pid
    else:
        # The workers share the one socket: while the one that answered cannot take connections,
        # the other does.
        assert first != server.proc.pid
        os.kill(first, signal.SIGSTOP)
        try:
            other = int(wait_until(lambda: get_unix(path), "the other worker to answer"))
        finally:
            os.kill(first, signal.SIGCONT)
        server.seen.add(other)
        assert other not in (first, server.proc.pid)
    assert "Serving on unix socket " + str(path) in server.stderr()
    assert server.terminate() == 0
    assert not path.exists()


def test_max_requests(running: Callable[..., Running]) -> None:
    server = running("asgi_pid:app", "--max-requests", "2")
    (first,) = server.pids(1)
    assert get(server.port) == str(first)  # the 2nd request, its last
    server.pids(1, exclude={first})
    wait_until(lambda: not alive(first) or None, "the worker to leave")


def test_reload(running: Callable[..., Running], tmp_path: Path) -> None:
    shutil.copy(APPS / "asgi_pid.py", tmp_path / "edited.py")
    server = running("edited:app", "--reload", "--reload-dir", str(tmp_path), cwd=tmp_path)
    (first,) = server.pids(1)
    time.sleep(0.6)  # the reloader's first look at the files
    source = (tmp_path / "edited.py").read_text()
    (tmp_path / "edited.py").write_text(source.replace("str(os.getpid())", "str(-os.getpid())"))
    negative = server.pids(1, exclude={first})  # the new code answers a negative PID
    assert all(pid < 0 for pid in negative)
    server.seen = {abs(pid) for pid in server.seen}
    wait_until(lambda: not alive(first) or None, "the old worker to leave")
    assert "Changes detected in edited.py: reloading" in server.stderr()
    assert server.terminate() == 0


# ---- fasterapi.run()


def test_run_is_exported_and_the_server_imported_only_to_serve() -> None:
    # (the server package's own module is imported: the native Response constructor lives there)
    code = (
        "import sys, fasterapi; assert callable(fasterapi.run); "
        "print(sorted(m for m in sys.modules if m.startswith('fasterapi_server.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    assert done.stdout == "['fasterapi_server._response', 'fasterapi_server._version']\n"


def test_fasterapi_run_serves_an_app_object(tmp_path: Path) -> None:
    port = free_port()
    script = tmp_path / "serve.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(APPS)!r})\n"
        "import fasterapi\n"
        "from asgi_pid import app\n"
        f"fasterapi.run(app, port={port}, threads=1, log_level='warning')\n"
    )
    log = tmp_path / "log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, str(script)], stderr=stderr)
    try:
        body = wait_until(lambda: get(port), lambda: f"an answer\n{log.read_text()}")
        assert int(body) == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
        assert log.read_text() == ""  # log_level went through
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
