"""The ASGI lifespan protocol: startup before the first request, shutdown after the last.

As uvicorn's "auto" mode: an app that raises before it receives the startup message does not
speak lifespan, and the server goes on without it; "on" makes that an error. A startup.failed or
an exception during startup stops the server before it serves anything.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fasterapi_server._asgi import ASGIApp, Message

logger = logging.getLogger("fasterapi.server")

_ASGI = {"version": "3.0", "spec_version": "2.0"}


class LifespanFailed(RuntimeError):
    """The application's startup or shutdown failed."""


class Lifespan:
    def __init__(self, app: ASGIApp, mode: str, state: dict[str, Any]) -> None:
        self.app = app
        self.mode = mode
        self.state = state
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.failure: str | None = None
        self.unsupported = False
        self.received_startup = False
        self.task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        if self.mode == "off":
            return
        self.task = asyncio.get_running_loop().create_task(self._main())
        await self.inbox.put({"type": "lifespan.startup"})
        await self.started.wait()
        if self.failure is not None:
            raise LifespanFailed(self.failure)

    async def shutdown(self) -> None:
        if self.mode == "off" or self.unsupported or self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.stopped.wait()
        if self.failure is not None:
            raise LifespanFailed(self.failure)

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:
            if not self.received_startup and self.mode == "auto":
                self.unsupported = True
                logger.info("ASGI 'lifespan' protocol appears unsupported.")
            else:
                self.failure = f"{type(exc).__name__}: {exc}"
                logger.error("Exception in 'lifespan' protocol", exc_info=exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self.started.set()
            self.stopped.set()

    async def _receive(self) -> Message:
        message = await self.inbox.get()
        if message["type"] == "lifespan.startup":
            self.received_startup = True
        return message

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self.started.set()
        elif kind == "lifespan.startup.failed":
            self.failure = message.get("message", "") or "startup failed"
            self.started.set()
        elif kind == "lifespan.shutdown.complete":
            self.stopped.set()
        elif kind == "lifespan.shutdown.failed":
            self.failure = message.get("message", "") or "shutdown failed"
            self.stopped.set()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} in the lifespan protocol")
