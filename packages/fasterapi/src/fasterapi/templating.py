"""`Jinja2Templates`: HTML responses rendered from Jinja2 templates (jinja2 is optional)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any

from .background import BackgroundTask
from .datastructures import URL
from .requests import Request
from .responses import HTMLResponse
from .types import Receive, Scope, Send

if TYPE_CHECKING:
    import jinja2

__all__ = ["Jinja2Templates"]


def _jinja2() -> Any:
    try:
        import jinja2  # noqa: PLC0415
    except ModuleNotFoundError:
        raise AssertionError("jinja2 must be installed to use Jinja2Templates") from None
    return jinja2


class _TemplateResponse(HTMLResponse):
    def __init__(  # noqa: PLR0917
        self,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = self.context.get("request", {})
        extensions = request.get("extensions", {})
        if "http.response.debug" in extensions:
            # The test client exposes these as response.template and response.context.
            await send(
                {"type": "http.response.debug", "info": {"template": self.template, "context": self.context}}
            )
        await super().__call__(scope, receive, send)


class Jinja2Templates:
    """`Jinja2Templates(directory="templates")` or `Jinja2Templates(env=environment)`; templates
    get a `url_for(name, **params)` global that resolves with the request of the context."""

    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        assert bool(directory) ^ bool(env), "either 'directory' or 'env' arguments must be passed"
        self.context_processors = context_processors or []
        if directory is not None:
            jinja2 = _jinja2()
            self.env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(directory), autoescape=jinja2.select_autoescape()
            )
        else:
            assert env is not None
            self.env = env
        self._setup_env_defaults(self.env)

    def _setup_env_defaults(self, env: jinja2.Environment) -> None:
        jinja2 = _jinja2()

        @jinja2.pass_context  # type: ignore[untyped-decorator, unused-ignore]
        def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
            request: Request = context["request"]
            return request.url_for(name, **path_params)

        env.globals.setdefault("url_for", url_for)

    def get_template(self, name: str) -> jinja2.Template:
        template: jinja2.Template = self.env.get_template(name)
        return template

    def TemplateResponse(  # noqa: PLR0917
        self,
        request: Request | str,
        name: str | dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        """Renders template `name` with `context` (plus `request`, and what the context
        processors add). The old call `TemplateResponse(name, {"request": request, ...})` is
        still accepted, with a deprecation warning."""
        if isinstance(request, str):
            warnings.warn(
                "The `name` is not the first parameter anymore. "
                "The first parameter should be the `Request` instance.\n"
                'Replace `TemplateResponse(name, {"request": request})` by `TemplateResponse(request, name)`.',  # noqa: E501
                DeprecationWarning,
                stacklevel=2,
            )
            old_context = name if isinstance(name, dict) else (context or {})
            name, request = request, old_context.get("request")  # type: ignore[assignment]
            context = old_context
            assert request is not None, 'context must include a "request" key'
        assert isinstance(name, str)
        context = context or {}
        context.setdefault("request", request)
        for context_processor in self.context_processors:
            context.update(context_processor(request))  # type: ignore[arg-type]
        return _TemplateResponse(
            self.get_template(name),
            context,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
        )
