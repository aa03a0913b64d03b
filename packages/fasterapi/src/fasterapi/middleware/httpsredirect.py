"""`HTTPSRedirectMiddleware`: redirects http and ws requests to https and wss (307)."""

from __future__ import annotations

from ..datastructures import URL
from ..responses import PlainTextResponse, RedirectResponse
from ..types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]


class HTTPSRedirectMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["scheme"] in ("http", "ws"):
            url = URL(scope=scope)
            if not url.netloc:
                await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
                return
            scheme = {"http": "https", "ws": "wss"}[url.scheme]
            netloc = url.hostname if url.port in (80, 443) else url.netloc
            await RedirectResponse(url.replace(scheme=scheme, netloc=netloc), status_code=307)(
                scope, receive, send
            )
        else:
            await self.app(scope, receive, send)
