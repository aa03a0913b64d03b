"""Listening sockets given rather than made by the engine: a Unix domain socket (`uds`), made by
the process that serves or by the supervisor for its workers (which listen on the one socket it
hands them, as `fd`) and removed by whoever made it; or any socket inherited as `fd`."""

from __future__ import annotations

import contextlib
import os
import socket
import stat

# Listening from the start with the engine's BACKLOG (it listens again on its duplicate):
# connections wait in the backlog while workers start, instead of being refused.
from fasterapi_server._engine import BACKLOG

# The permissions of a new socket file: any local user may connect (uvicorn's), so that a proxy
# running as another user can; a socket file replaced keeps the permissions it had.
NEW_SOCKET_MODE = 0o666


class UnixListener:
    """A stream socket bound to `path`. A socket file already there is replaced when it is left by
    a server that is gone (nothing listens on it), as asyncio's create_unix_server does; one that
    a server still listens on is an error (OSError), as a TCP port in use is, and so is any other
    file. close() removes the file, unless something else has replaced it since."""

    def __init__(self, path: str) -> None:
        self.path = path = os.path.abspath(path)  # (removed at the end, wherever the app went since)
        mode = NEW_SOCKET_MODE
        try:
            found = os.stat(path)
        except FileNotFoundError:
            pass
        else:
            if not stat.S_ISSOCK(found.st_mode):
                raise OSError(f"cannot listen on {path}: it exists and is not a socket")
            if _listened_on(path):
                raise OSError(f"cannot listen on {path}: a server is listening on it already")
            mode = stat.S_IMODE(found.st_mode)
            with contextlib.suppress(FileNotFoundError):  # (gone meanwhile)
                os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.bind(path)
        except OSError as exc:
            self.sock.close()
            raise _cannot_listen(path, exc) from None
        try:
            self._file = os.stat(path)
            os.chmod(path, mode)
            self.sock.listen(BACKLOG)
        except OSError as exc:
            self.sock.close()
            with contextlib.suppress(OSError):
                os.unlink(path)  # (made just now)
            raise _cannot_listen(path, exc) from None

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            now = os.stat(self.path)
            if (now.st_dev, now.st_ino) == (self._file.st_dev, self._file.st_ino):
                os.unlink(self.path)


def _listened_on(path: str) -> bool:
    """Whether something listens on the socket file `path`: a connection to it is taken or waits
    in its backlog (full: EAGAIN). Refused, nothing does (its server is gone); any other failure
    (no permission to connect, say) is raised."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.setblocking(False)  # (a full backlog would block a blocking connect)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except BlockingIOError:
            return True
        except OSError as exc:
            raise _cannot_listen(path, exc) from None
    return True


def _cannot_listen(path: str, exc: OSError) -> OSError:
    return OSError(f"cannot listen on {path}: {exc.strerror or exc}")


def describe(fd: int) -> tuple[tuple[str, int] | None, str]:
    """The scope's "server" and a readable name of the listening socket `fd`: (host, port) and
    "host:port" for a TCP socket; None (as uvicorn's) and "unix socket PATH" for a Unix domain
    socket."""
    with contextlib.closing(socket.socket(fileno=os.dup(fd))) as sock:
        name = sock.getsockname()
        if sock.family == socket.AF_UNIX:
            path = name.decode(errors="replace") if isinstance(name, bytes) else name
            return None, f"unix socket {path or '(unnamed)'}"
        host, port = name[0], name[1]
    return (host, port), f"{'[' + host + ']' if ':' in host else host}:{port}"
