"""`TrustedHostMiddleware`: refuses requests whose Host header is not an allowed one (400)."""

from __future__ import annotations

from collections.abc import Sequence

from ..datastructures import URL, Headers, parse_host_header
from ..responses import PlainTextResponse, RedirectResponse, Response
from ..types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHostMiddleware"]

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."


class TrustedHostMiddleware:
    """`allowed_hosts` holds names, `*.example.com` wildcards or `*`; with `www_redirect`, a request
    for `example.com` is redirected to `www.example.com` when only the latter is allowed."""

    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        for pattern in allowed_hosts:
            assert "*" not in pattern[1:], ENFORCE_DOMAIN_WILDCARD
            if pattern.startswith("*") and pattern != "*":
                assert pattern.startswith("*."), ENFORCE_DOMAIN_WILDCARD
        self.app = app
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        self.allow_any = "*" in allowed_hosts
        self.www_redirect = www_redirect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parsed = parse_host_header(Headers(scope=scope).get("host"))
        if parsed is None:
            await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
            return
        host = parsed.host.lower()
        is_valid_host = False
        found_www_redirect = False
        for pattern in self.allowed_hosts:
            if host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:])):
                is_valid_host = True
                break
            if "www." + host == pattern:
                found_www_redirect = True
        if is_valid_host:
            await self.app(scope, receive, send)
            return
        response: Response
        if found_www_redirect and self.www_redirect:
            url = URL(scope=scope)
            response = RedirectResponse(url=str(url.replace(netloc="www." + url.netloc)))
        else:
            response = PlainTextResponse("Invalid host header", status_code=400)
        await response(scope, receive, send)
