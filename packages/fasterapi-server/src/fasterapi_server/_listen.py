"""Listening sockets given rather than made by the engine: a Unix domain socket (`uds`), made by
the process that serves or by the supervisor for its workers (which listen on the one socket it
hands them, as `fd`) and removed by whoever made it; or any socket inherited as `fd`."""

from __future__ import annotations

import contextlib
import os
import socket
import stat

# The permissions of a new socket file: any local user may connect (uvicorn's), so that a proxy
# running as another user can; a socket file replaced keeps the permissions it had.
NEW_SOCKET_MODE = 0o666
# Listening from the start (the engine's backlog; it listens again on its duplicate): connections
# wait in the backlog while workers start, instead of being refused.
BACKLOG = 2048


class UnixListener:
    """A stream socket bound to `path`. A socket file already there (left by a server that is
    gone) is replaced, as asyncio's create_unix_server does; any other file is an error (OSError).
    close() removes the file, unless something else has replaced it since."""

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
            mode = stat.S_IMODE(found.st_mode)
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.bind(path)
        except OSError as exc:
            self.sock.close()
            raise OSError(f"cannot listen on {path}: {exc.strerror or exc}") from None
        try:
            self._file = os.stat(path)
            os.chmod(path, mode)
            self.sock.listen(BACKLOG)
        except OSError as exc:
            self.sock.close()
            with contextlib.suppress(OSError):
                os.unlink(path)  # (made just now)
            raise OSError(f"cannot listen on {path}: {exc.strerror or exc}") from None

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            now = os.stat(self.path)
            if (now.st_dev, now.st_ino) == (self._file.st_dev, self._file.st_ino):
                os.unlink(self.path)


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
