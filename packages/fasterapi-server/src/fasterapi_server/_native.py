"""The native path: a fasterapi app's path operations called without the ASGI layers around them.

At startup, the app's routes that the engine can route exactly as the app would (plain path
operations, no earlier route that could match the same path, converters the tree knows) are
registered in the engine's router under their index; the I/O threads then route those requests
and hand over the route and its converted path parameters. Such a request goes straight to the
route's compiled handler, inside the same exception layers the app's default middleware stack
would run (`fasterapi.applications._serve`), without FastAPI.__call__ and the router's match.

Whatever might make the answer differ goes through the app as ASGI instead: user middleware, a
route list changed since startup, a route whose plan needs a per-request exit stack, forms, SSE,
a root_path. The app's behaviour stays the app's; only the dispatch is shorter.
"""

from __future__ import annotations

from typing import Any

from fasterapi_server._asgi import HTTPCycle, ServerState
from fasterapi_server._engine import Engine, Request


class NativeCycle(HTTPCycle):
    """The cycle of a request of the native path, made when it is needed (NativeRequest._need_cycle):
    for the ASGI messages of a response that is not a plain one, a body read through `receive`,
    a body streamed in records, a Task that waits, the end of a request that failed."""

    __slots__ = ()

    def respond(self, status: int, headers: Any, body: bytes | memoryview) -> None:
        """A whole response at once, without ASGI messages (`_serve`'s `direct`)."""
        if self.started:
            raise RuntimeError("the response has already started")
        self._respond_whole(status, headers, body)


class NativeApp:
    """The routes of one fasterapi app that the engine routes, and how to call them."""

    def __init__(  # noqa: PLR0917
        self,
        app: Any,
        shared: ServerState,
        routes: list[Any],
        version: int,
        serve: Any,
        route_handle: Any,
        request_type: Any,
    ) -> None:
        self.app = app
        self.shared = shared
        self.routes = routes  # by engine route id: the app's route objects
        self.version = version  # the app's route list version when they were registered
        self._route_handle = route_handle  # the framework's Route.handle (a route with its own: ASGI)
        # Per route: the scope keys its requests share (the server's, and the route's own).
        self.bases = [
            {
                **shared.base,
                "app": app,
                "router": app.router,
                "route": route,
                "endpoint": route.endpoint,
                "path_params": None,  # (Request.scope's, see REQUEST_KEYS)
            }
            for route in routes
        ]
        self.serve = serve  # fasterapi.applications._serve: the app's default layers in one coroutine
        self.request_type = request_type  # the framework's Request for it, whose scope is made on use
        # What may change after startup is checked once per batch of requests (start_batch), and
        # once per route within it: the requests of one batch arrived together, and any order
        # among them is one their clients could have seen.
        self._batch = 0
        self._app_as_registered = False  # this batch: the app's routes and layers as at startup
        self._plans: list[tuple[int, Any] | None] = [None] * len(routes)  # per route: (batch, plan or None)

    @classmethod
    def attach(cls, app: Any, engine: Engine, shared: ServerState) -> NativeApp | None:
        """Registers the routes the engine can route for `app`; None if it is not a fasterapi app
        with the default middleware stack (it is then served as any ASGI app)."""
        try:
            # The framework is optional: the server alone serves any ASGI app.
            from fasterapi._routing_base import Route  # noqa: PLC0415
            from fasterapi.applications import FastAPI, _serve  # noqa: PLC0415
            from fasterapi.routing import APIRoute  # noqa: PLC0415

            from fasterapi_server._native_request import NativeRequest  # noqa: PLC0415
        except ImportError:
            return None
        if not isinstance(app, FastAPI) or app.root_path or shared.root_path:
            return None
        if app.middleware_stack is None:
            app.middleware_stack = app.build_middleware_stack()
        layers = app._fast_layers(app.middleware_stack)
        if layers is None:
            return None
        app._fast_stack = app.middleware_stack  # what FastAPI.__call__ would note on its first call
        app._fast = layers
        router = app.router
        table = router._table("http")
        routes: list[Any] = []
        for entry in table.entries:
            route = entry.route
            if (
                not entry.trusted
                or table.shadows[entry.index]
                or not isinstance(route, APIRoute)
                or not route.methods
            ):
                continue
            if engine.add_route(sorted(route.methods), route.path, len(routes)):
                routes.append(route)
        if not routes:
            return None
        return cls(
            app, shared, routes, getattr(router.routes, "version", 0), _serve, Route.handle, NativeRequest
        )

    def start_batch(self) -> None:
        """Before the requests of one poll."""
        self._batch += 1
        app = self.app
        self._app_as_registered = (
            getattr(app.router.routes, "version", 0) == self.version
            and app.middleware_stack is app._fast_stack
            and app._fast is not None
        )

    def handle(self, req: Request, index: int) -> None:
        """`req`, routed by the engine to the route registered as `index`."""
        shared = self.shared
        known = self._plans[index]
        if known is not None and known[0] == self._batch:
            plan = known[1]
        else:
            plan = self._eligible(self.routes[index]) if self._app_as_registered else None
            self._plans[index] = (self._batch, plan)
        if plan is None:
            HTTPCycle(req, shared).begin()
            return
        # Most requests need no cycle: their handler answers with a plain response, handed to the
        # engine whole (NativeRequest._respond), and finishes in its first step. The request makes
        # its cycle for anything else (NativeRequest._need_cycle).
        # (The callables held in attributes are read into locals first: Python 3.11 does not
        # specialize `obj.attr(...)` for an instance's own attribute, and looks it up in full.)
        layers = self.app._fast
        new_request = self.request_type
        request = new_request(req, self, index, layers)
        if req.more_body:
            request._need_cycle()  # (its body's records go to the cycle)
        drive = shared.drive
        serve = self.serve
        try:
            task = drive(serve(layers, self.routes[index]._fast_handle, plan, request, request._respond))
        except BaseException as exc:  # the call itself failed (the Task catches the rest)
            request._need_cycle()._after(exc)
            if not isinstance(exc, Exception):
                raise
            return
        if task is None and request._cycle is None:
            status = request._status
            if status is not None:  # answered, nothing raised: the usual end
                if shared.access is not None:
                    shared.access.pending.append((req, status))
                return
        request._need_cycle().settle(task)

    def _eligible(self, route: Any) -> Any:
        """The route's plan when the native path may call it, else None. What decides it can
        change after startup: dependency_overrides recompile the plan, a route's app may be
        replaced."""
        plan = route._current_plan()
        eligible = (
            type(route).handle is self._route_handle
            and route.app is route._fast_app
            and route._fast_handle is not None
            and not route._is_form
            and not route.is_sse_stream
            and not plan.needs_stack
        )
        return plan if eligible else None
