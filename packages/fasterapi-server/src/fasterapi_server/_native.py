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

from fasterapi_server._asgi import HTTPCycle, ServerState, dispatch_failed
from fasterapi_server._engine import Engine, NativeDispatch, Request


class NativeCycle(HTTPCycle):
    """The cycle of a request of the native path, made when it is needed (NativeRequest._need_cycle):
    for the ASGI messages of a response that is not a plain one, a body read through `receive`,
    a body streamed in records, a Task that waits, the end of a request that failed."""

    __slots__ = ()

    def respond(self, status: int, headers: Any, body: bytes | memoryview) -> None:
        """A whole response at once, without ASGI messages (`_serve`'s `direct`, req.answer)."""
        if self.started:
            raise RuntimeError("the response has already started")
        self._respond_whole(status, headers, body)

    def finish(self) -> None:
        super().finish()
        # The engine's request held this cycle for req.answer, and this cycle holds it: the link
        # goes at the end, so that both are freed with the request (not by the cycle collector).
        self.req.cycle = None


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
        # What may change after startup is checked once per batch of requests (start_batch), and
        # once per route within it (plan_for): the requests of one batch arrived together, and any
        # order among them is one their clients could have seen.
        self.dispatch = NativeDispatch(
            self,
            request_type,  # the framework's Request for it, whose scope is made on use
            serve,  # fasterapi.applications._serve: the app's default layers in one coroutine
            shared.drive,
            len(routes),
            shared.access is not None,
        )

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
        app = self.app
        as_registered = (
            getattr(app.router.routes, "version", 0) == self.version
            and app.middleware_stack is app._fast_stack
            and app._fast is not None
        )
        self.dispatch.new_batch(app._fast if as_registered else None)

    # ---- NativeDispatch's callbacks. The engine starts each request routed to `routes[index]`
    # from its poll (Engine.poll(dispatch)), as this would, written out:
    #
    #     plan, handler = plan_for(index)  # (once a route a batch; None: fallback(req), as for
    #                                      # a request the engine did not route, in its turn)
    #     request = NativeRequest(req, self, index, layers)
    #     if req.more_body:
    #         request._need_cycle()  # (its body's records go to the cycle)
    #     try:
    #         task = drive(serve(layers, handler, plan, request, req.answer))
    #     except BaseException as exc:  # the call itself failed (the Task catches the rest)
    #         start_failed(request, exc)
    #         if not isinstance(exc, Exception):
    #             raise  # (out of the poll: Engine.raise_pending)
    #     else:
    #         if task is None and not req.cycled and req.answered:
    #             logged(req, req.answered)  # answered, nothing raised: the usual end
    #         else:
    #             finish(request, task)
    #
    # Most requests need no cycle: their handler answers with a plain response, handed to the
    # engine whole (req.answer: through the request's cycle once it has one), and finishes in its
    # first step. The request makes its cycle for anything else (NativeRequest._need_cycle).
    # Anything that fails in the dispatch itself (a bug of the server's) goes to dispatch_failed.

    def plan_for(self, index: int) -> tuple[Any, Any] | None:
        """The plan of route `index` and its handler, when the native path may call it in this
        batch; None: its requests go through the app as ASGI."""
        route = self.routes[index]
        plan = self._eligible(route)
        return None if plan is None else (plan, route._fast_handle)

    def fallback(self, req: Request) -> None:
        HTTPCycle(req, self.shared).begin()

    def finish(self, request: Any, task: Any) -> None:
        request._need_cycle().settle(task)

    def start_failed(self, request: Any, exc: BaseException) -> None:
        request._need_cycle()._after(exc)

    def dispatch_failed(self, req: Request, exc: BaseException) -> None:
        dispatch_failed(req, exc)  # (logged, answered 500)

    def logged(self, req: Request, status: int) -> None:
        self.shared.access.pending.append((req, status))

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
