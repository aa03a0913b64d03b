"""`APIRouter.frontend()`: a static frontend build served as low-priority routes.

The frontend's routes are tried only when no other route of the router matched (nor a partial
match, nor a trailing-slash redirect): the files of the directory, then the fallback file
("404.html" with status 404, or "index.html" for a browser navigation, when present with
fallback="auto").
"""

from __future__ import annotations

import contextlib
import email.message
import errno
import os
import stat
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from fasterapi._routing_base import BaseRoute, Match, NoMatchFound, get_route_path
from fasterapi.concurrency import run_in_threadpool
from fasterapi.datastructures import URL, Headers, URLPath
from fasterapi.exceptions import HTTPException
from fasterapi.responses import RedirectResponse, Response
from fasterapi.staticfiles import StaticFiles
from fasterapi.types import Receive, Scope, Send

Fallback = Literal["auto", "index.html", "404.html"] | None
_FRONTEND_PATH = "fastapi.frontend_path"


def normalize_frontend_path(path: str) -> str:
    if not path:
        raise AssertionError("A frontend path cannot be empty")
    if not path.startswith("/"):
        raise AssertionError("A frontend path must start with '/'")
    return path if path == "/" else path.rstrip("/")


def join_frontend_paths(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix if path == "/" else prefix + path


def resolve_check_dir(directory: str | os.PathLike[str], check_dir: bool | Literal["auto"]) -> bool:
    if check_dir != "auto":
        return check_dir
    if os.environ.get("FASTAPI_ENV") != "development":
        return True
    if not os.path.isdir(directory):
        warnings.warn(
            f"Frontend directory '{directory}' does not exist. "
            f"Resolved absolute path: '{os.path.realpath(os.fspath(directory))}'",
            stacklevel=4,
        )
    return False


def _accepted_media_types(accept: str) -> Iterator[tuple[str, float]]:
    for raw in accept.split(","):
        message = email.message.Message()
        message["content-type"] = raw.strip()
        q = message.get_param("q")
        quality = 1.0
        if isinstance(q, str):
            with contextlib.suppress(ValueError):
                quality = float(q)
        yield f"{message.get_content_maintype()}/{message.get_content_subtype()}", quality


def is_navigation_request(scope: Scope) -> bool:
    accept = Headers(scope=scope).get("accept", "")
    return any(
        media in {"text/html", "application/xhtml+xml"} and quality != 0
        for media, quality in _accepted_media_types(accept)
    )


class FrontendStaticFiles(StaticFiles):
    def __init__(self, *, directory: str | os.PathLike[str], fallback: Fallback, check_dir: bool) -> None:
        self.fallback = fallback
        if check_dir and not os.path.isdir(directory):
            raise RuntimeError(
                f"Frontend directory '{directory}' does not exist. "
                f"Resolved absolute path: '{os.path.realpath(os.fspath(directory))}'"
            )
        super().__init__(directory=directory, html=True, check_dir=check_dir, follow_symlink=False)
        if check_dir and fallback in {"index.html", "404.html"}:
            _, stat_result = self.lookup_path(fallback)
            if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
                raise RuntimeError(self._missing_fallback(fallback))

    def _missing_fallback(self, fallback: str) -> str:
        resolved = os.path.realpath(os.fspath(self.directory or ""))
        return (
            f"Frontend fallback file '{fallback}' does not exist in directory '{self.directory}'. "
            f"Resolved absolute directory: '{resolved}'"
        )

    async def response_for(self, scope: Scope, frontend_path: str) -> Response:
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        path = os.path.normpath(os.path.join(*frontend_path.split("/")))
        resource = await self._lookup_resource(path)
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405 if resource is not None else 404)
        if resource is not None:
            full_path, stat_result, is_index = resource
            if is_index and not scope["path"].endswith("/"):
                url = URL(scope=scope)
                return RedirectResponse(url=url.replace(path=url.path + "/"))
            return self.file_response(full_path, stat_result, scope)
        if self.fallback == "404.html" or (self.fallback == "auto" and await self._is_file("404.html")):
            return await self._fallback(scope, "404.html", 404)
        if (
            self.fallback == "index.html" or (self.fallback == "auto" and await self._is_file("index.html"))
        ) and is_navigation_request(scope):
            return await self._fallback(scope, "index.html", 200)
        raise HTTPException(status_code=404)

    async def _lookup(self, path: str) -> tuple[str, os.stat_result | None]:
        try:
            return await run_in_threadpool(self.lookup_path, path)
        except PermissionError:
            raise HTTPException(status_code=401) from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise HTTPException(status_code=404) from None
            raise
        except ValueError:
            raise HTTPException(status_code=404) from None

    async def _lookup_resource(self, path: str) -> tuple[str, os.stat_result, bool] | None:
        full_path, stat_result = await self._lookup(path)
        if stat_result is None:
            return None
        if stat.S_ISREG(stat_result.st_mode):
            return full_path, stat_result, False
        if stat.S_ISDIR(stat_result.st_mode):
            full_path, stat_result = await self._lookup(os.path.join(path, "index.html"))
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return full_path, stat_result, True
        return None

    async def _is_file(self, name: str) -> bool:
        _, stat_result = await run_in_threadpool(self.lookup_path, name)
        return stat_result is not None and stat.S_ISREG(stat_result.st_mode)

    async def _fallback(self, scope: Scope, name: str, status_code: int) -> Response:
        full_path, stat_result = await run_in_threadpool(self.lookup_path, name)
        if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
            raise RuntimeError(self._missing_fallback(name))
        return self.file_response(full_path, stat_result, scope, status_code=status_code)


class FrontendRoute(BaseRoute):
    """The files under `path`; `files` may be shared with the same route included elsewhere."""

    def __init__(
        self,
        path: str,
        files: FrontendStaticFiles,
        *,
        dependencies: Sequence[Any] = (),
        dependency_overrides_provider: Any | None = None,
    ) -> None:
        self.path = normalize_frontend_path(path)
        self.methods = {"GET", "HEAD"}
        self.files = files
        self.specificity = 0 if self.path == "/" else len(self.path)
        # Router dependencies (params.Depends), solved before a file is served (see routing).
        self.dependencies = list(dependencies)
        self.dependency_overrides_provider = dependency_overrides_provider
        self.compiled: Any = None

    def with_prefix(
        self, prefix: str, dependencies: Sequence[Any], dependency_overrides_provider: Any | None
    ) -> FrontendRoute:
        return FrontendRoute(
            join_frontend_paths(prefix, self.path),
            self.files,
            dependencies=[*dependencies, *self.dependencies],
            dependency_overrides_provider=dependency_overrides_provider,
        )

    def _frontend_path(self, route_path: str) -> str | None:
        if self.path == "/":
            return route_path.lstrip("/")
        if route_path == self.path:
            return ""
        if route_path.startswith(self.path + "/"):
            return route_path[len(self.path) + 1 :]
        return None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        frontend_path = self._frontend_path(get_route_path(scope))
        if frontend_path is None:
            return Match.NONE, {}
        child_scope = {_FRONTEND_PATH: frontend_path}
        return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.files.response_for(scope, scope.get(_FRONTEND_PATH, ""))
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


def match_low_priority(routes: Sequence[BaseRoute], scope: Scope) -> tuple[BaseRoute, Scope] | None:
    """The frontend route with the longest path that matches fully, else partially; other
    low-priority routes in their order."""
    best: tuple[int, int, BaseRoute, Scope] | None = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.NONE:
            continue
        rank = 1 if match is Match.FULL else 0
        specificity = route.specificity if isinstance(route, FrontendRoute) else 1 << 30
        if best is None or (rank, specificity) > (best[0], best[1]):
            best = (rank, specificity, route, child_scope)
    return None if best is None else (best[2], best[3])
