"""The access log, off the request's path.

A finished request costs the event loop one list append; every 100 ms the batch goes to a thread
of its own, which builds the log records and writes them through the "fasterapi.access" logger.
Each record carries its fields as attributes (client, method, path, http_version, status), for a
structured formatter; the message reads as uvicorn's:

    127.0.0.1:50622 - "GET /items/1 HTTP/1.1" 200
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

logger = logging.getLogger("fasterapi.access")

_FLUSH_EVERY = 0.1  # seconds


class AccessLog:
    def __init__(self) -> None:
        self.pending: list[tuple[Any, int]] = []
        self._queue: queue.SimpleQueue[list[tuple[Any, int]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="fasterapi-access-log", daemon=True)
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()
        self._timer = loop.call_later(_FLUSH_EVERY, self._flush)

    def _flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self._queue.put(batch)
        if self._loop is not None:
            self._timer = self._loop.call_later(_FLUSH_EVERY, self._flush)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = None
        if self.pending:
            self._queue.put(self.pending)
            self.pending = []
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _write(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            for req, status in batch:
                client = req.client  # (None from a Unix domain socket: "", as uvicorn logs it)
                fields = {
                    "client": "" if client is None else f"{client[0]}:{client[1]}",
                    "method": req.method,
                    "path": req.target.decode("latin-1"),
                    "http_version": req.http_version,
                    "status": status,
                }
                logger.info(
                    '%s - "%s %s HTTP/%s" %d',
                    fields["client"], fields["method"], fields["path"], fields["http_version"], status,
                    extra=fields,
                )  # fmt: skip
