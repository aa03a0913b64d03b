"""The server's settings, in one place: what `fasterapi run` flags, `fasterapi.run()` keywords and
`fasterapi_server.serve()` keywords all set."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal


class OptionError(ValueError):
    """A server option with a value it cannot take, or options that cannot go together."""


# The log levels a server takes (uvicorn's names), lower-case, to the logging module's numbers.
LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": 5,
}


def default_threads() -> int:
    """I/O threads for one worker: one per two cores the process may use; none with one core (the
    Python thread does the I/O itself: a thread of its own would only take turns with it there).
    A process per core is the way to use the rest: --workers."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if cores == 1 else cores // 2


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = field(default_factory=default_threads)  # I/O threads per worker; 0: none, inline
    # A listening socket per I/O thread with SO_REUSEPORT, so that worker processes share the port
    # (the supervisor sets it). Off, a second server on a port in use fails instead of sharing it.
    reuse_port: bool = False
    # Instead of host and port: a Unix domain socket at this path (made, and removed at exit), or
    # an inherited listening socket, by descriptor (systemd's socket activation gives 3). Several
    # workers listen on the one socket the supervisor makes.
    uds: str | None = None
    fd: int | None = None
    lifespan: Literal["auto", "on", "off"] = "auto"
    loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    root_path: str = ""
    # Behind a reverse proxy: the client's address and the scheme as the proxy's X-Forwarded-For
    # and X-Forwarded-Proto tell, when the peer is one of forwarded_allow_ips (None: the
    # FORWARDED_ALLOW_IPS environment variable, else 127.0.0.1), as uvicorn does.
    proxy_headers: bool = True
    forwarded_allow_ips: str | Sequence[str] | None = None
    server_header: str = "fasterapi"
    access_log: bool = False
    log_level: str = "info"
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    # Limits (413, 414, 431 past them) and back-pressure.
    max_body_size: int = 1 << 30
    max_connections: int = 10000
    max_pipelined: int = 32
    max_request_line: int = 8190
    max_header_bytes: int = 65536
    max_headers: int = 100
    # Timeouts, seconds.
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    body_timeout: float = 30.0
    write_timeout: float = 60.0
    shutdown_timeout: float = 30.0
    # Blocking work (sync endpoints and dependencies of a fasterapi app): "native", the engine's
    # thread pool (its calls can use anyio.from_thread as on anyio's threads); "anyio", anyio's threads.
    executor: Literal["native", "anyio"] = "native"
    executor_threads: int | None = None  # None: fasterapi's thread pool size
    # Stop gracefully after this many requests (the supervisor starts a fresh worker).
    max_requests: int | None = None
    # The native path for fasterapi apps (no ASGI messages); off serves every app through ASGI.
    native: bool = True
    # Before serving: gc.collect(), then gc.freeze(), so that the cyclic collector's full
    # collections no longer walk the objects that exist by then (the app, its modules and
    # schemas: long-lived, and most of the heap); gc.unfreeze() once the server has stopped.
    gc_freeze: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise OptionError(f"port must be 0..65535, not {self.port}")
        if self.uds is not None and self.fd is not None:
            raise OptionError("uds and fd cannot go together: each gives the socket to listen on")
        if self.uds is not None and not self.uds:
            raise OptionError("uds must be a path")
        if self.fd is not None and self.fd < 0:
            raise OptionError(f"fd must be at least 0, not {self.fd}")
        if self.threads < 0:
            raise OptionError(f"threads must be at least 0, not {self.threads}")
        if self.log_level.lower() not in LOG_LEVELS:
            raise OptionError(f"log_level must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if self.lifespan not in ("auto", "on", "off"):
            raise OptionError(f"lifespan must be 'auto', 'on' or 'off', not {self.lifespan!r}")
        if self.loop not in ("auto", "asyncio", "uvloop"):
            raise OptionError(f"loop must be 'auto', 'asyncio' or 'uvloop', not {self.loop!r}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise OptionError("ssl_certfile and ssl_keyfile go together")
        for name in ("max_body_size", "max_connections", "max_pipelined", "max_request_line",
                     "max_header_bytes", "max_headers"):  # fmt: skip
            if getattr(self, name) < 1:
                raise OptionError(f"{name} must be at least 1, not {getattr(self, name)}")
        self.trusted_proxies()  # (raises for a value it cannot take)
        if self.executor not in ("native", "anyio"):
            raise OptionError(f"executor must be 'native' or 'anyio', not {self.executor!r}")
        if self.executor_threads is not None and self.executor_threads < 1:
            raise OptionError(f"executor_threads must be at least 1, not {self.executor_threads}")
        if self.max_requests is not None and self.max_requests < 1:
            raise OptionError(f"max_requests must be at least 1, not {self.max_requests}")
        for name in (
            "header_timeout",
            "keep_alive_timeout",
            "body_timeout",
            "write_timeout",
            "shutdown_timeout",
        ):
            if getattr(self, name) <= 0:
                raise OptionError(f"{name} must be more than 0, not {getattr(self, name)}")

    def trusted_proxies(self) -> list[str]:
        """The engine's `forwarded_allow`: the peers whose X-Forwarded-* headers are believed, as
        "*", networks ("127.0.0.1/32", "10.0.0.0/8", "::1/128") and other names (an
        X-Forwarded-For entry such as "unknown", trusted as written). Empty without proxy_headers."""
        if not self.proxy_headers:
            return []
        value = self.forwarded_allow_ips
        if value is None:
            value = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, (list, tuple, set, frozenset)) or not all(
            isinstance(e, str) for e in entries
        ):
            raise OptionError(
                f"forwarded_allow_ips takes a comma-separated string or a list of addresses, networks "
                f"or names, not {value!r}"
            )
        trusted: list[str] = []
        for given in entries:
            entry = given.strip()
            if not entry:
                continue
            try:  # an address is a network of one; host bits past a prefix are ignored
                trusted.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                trusted.append(entry)  # "*", or a name
        return trusted

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Config:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown server option(s): {', '.join(unknown)}")
        return cls(**kwargs)
