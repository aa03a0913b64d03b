"""`ServerErrorMiddleware`: the outermost layer, turning any unhandled exception into a 500.

Without `debug`, the response is a plain-text "Internal Server Error" (or what the 500 handler
returns); with `debug`, a traceback: HTML for clients that accept it, plain text otherwise. The
exception is always re-raised afterwards, for the server to log (and the test client to raise).
"""

from __future__ import annotations

import html
import inspect
import traceback

from ..concurrency import is_async_callable, run_in_threadpool
from ..requests import Request
from ..responses import HTMLResponse, PlainTextResponse, Response
from ..types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

__all__ = ["ServerErrorMiddleware"]

_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Internal Server Error</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
h1 {{ font-size: 1.4em; color: #a00; }}
.frame {{ border: 1px solid #ccc; margin: 1em 0; }}
.frame-title {{ background: #eee; padding: .4em .6em; font-family: monospace; }}
pre {{ margin: 0; padding: .4em .6em; overflow-x: auto; }}
.current {{ background: #fdd; }}
</style>
</head>
<body>
<h1>500 Server Error</h1>
<h2>{error}</h2>
<div class="traceback">
<p>Traceback (most recent call last first)</p>
{frames}
</div>
</body>
</html>
"""


class ServerErrorMiddleware:
    def __init__(self, app: ASGIApp, handler: ExceptionHandler | None = None, debug: bool = False) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        response_started = False

        async def _send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception as exc:
            await self.respond(exc, scope, receive, send, response_started)
            raise exc

    async def respond(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send, response_started: bool
    ) -> None:
        """Sends the 500 response for `exc` (unless a response has started); the caller re-raises."""
        request = Request(scope)
        response: Response
        if self.debug:
            response = await run_in_threadpool(self.debug_response, request, exc)
        elif self.handler is None:
            response = self.error_response(request, exc)
        elif is_async_callable(self.handler):
            response = await self.handler(request, exc)
        else:
            response = await run_in_threadpool(self.handler, request, exc)  # type: ignore[arg-type]
        if not response_started and response is not None:
            await response(scope, receive, send)

    def format_line(self, index: int, line: str, frame_lineno: int, frame_index: int) -> str:
        lineno = frame_lineno - frame_index + index
        css = ' class="current"' if index == frame_index else ""
        return f"<pre{css}>{lineno}. {html.escape(line.rstrip())}</pre>"

    def generate_frame_html(self, frame: inspect.FrameInfo, is_collapsed: bool) -> str:
        lines = "".join(
            self.format_line(index, line, frame.lineno, frame.index or 0)
            for index, line in enumerate(frame.code_context or [])
        )
        title = f"File <b>{html.escape(frame.filename)}</b>, line <i>{frame.lineno}</i>, in <b>{html.escape(frame.function)}</b>"  # noqa: E501
        return f'<div class="frame"><div class="frame-title">{title}</div>{lines}</div>'

    def generate_html(self, exc: Exception, limit: int = 7) -> str:
        frames_html = ""
        if exc.__traceback__ is not None:
            frames = inspect.getinnerframes(exc.__traceback__, limit)
            frames_html = "".join(
                self.generate_frame_html(frame, index > 0) for index, frame in enumerate(reversed(frames))
            )
        error = f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}"
        return _PAGE.format(error=error, frames=frames_html)

    def generate_plain_text(self, exc: Exception) -> str:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def debug_response(self, request: Request, exc: Exception) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(self.generate_html(exc), status_code=500)
        return PlainTextResponse(self.generate_plain_text(exc), status_code=500)

    def error_response(self, request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=500)
