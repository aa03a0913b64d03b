"""C++ core of fasterapi_router (use the fasterapi_router package)"""

from collections.abc import Iterable
from typing import Any, Generic, Literal, TypeVar


T = TypeVar("T")

class Route(Generic[T]):
    """A registered route (or mount)."""

    @property
    def method(self) -> str:
        """The method it was added for, or '*' for any method."""

    @property
    def path(self) -> str:
        """The pattern as registered; for a mount, the prefix."""

    @property
    def value(self) -> T: ...

    @property
    def mount(self) -> bool:
        """Whether this is a mount (matches the prefix and everything below)."""

    def __repr__(self) -> str: ...

class Match(Generic[T]):
    """A successful lookup."""

    @property
    def value(self) -> T:
        """The value the route was added with."""

    @property
    def params(self) -> dict[str, Any]:
        """The path parameters, decoded and converted (a new dict per match)."""

    @property
    def route(self) -> str:
        """The pattern of the matched route, as registered."""

    @property
    def method(self) -> str:
        """The method of the matched route ('*' for a route of any method)."""

    @property
    def tail(self) -> str | None:
        """
        For a mount: the raw rest of the path, starting with '/'; otherwise None.
        """

    def __repr__(self) -> str: ...

class Miss:
    """A failed lookup: why, and what the client may do instead."""

    @property
    def status_code(self) -> int:
        """404 (no route matches the path) or 405 (none for the method)."""

    @property
    def allowed_methods(self) -> frozenset[str]:
        """
        For a 405: the methods of the routes that match the path (for the Allow header).
        """

    @property
    def redirect_path(self) -> str | None:
        """
        For a 404: the path with its trailing slash removed or added, if that one matches.
        """

    def __repr__(self) -> str: ...

class Router(Generic[T]):
    """
    Routes (method, path) to values of type T; patterns in FastAPI/Starlette syntax.
    """

    def __init__(self, *, on_conflict: Literal['error', 'first'] = 'error') -> None:
        """
        on_conflict='error' raises RouteConflictError for a second route of the same method and shape;
        'first' keeps the first one, as FastAPI does.
        """

    def add(self, method: str | Iterable[str], path: str, value: T) -> None:
        """Adds a route for one method, several, or '*' (any method)."""

    def mount(self, prefix: str, value: T) -> None:
        """
        Matches '<prefix>/' and every path below it, for any method; Match.tail is the raw rest.
        """

    def include(self, prefix: str, router: Router[T]) -> None:
        """
        Adds every route and mount of another router under a prefix, all of them or none.
        """

    def match(self, method: str, path: str | bytes) -> Match[T] | None:
        """The route for this method and raw path (no query string), or None."""

    def lookup(self, method: str, path: str | bytes) -> Match[T] | Miss:
        """
        Like match(), but a miss says 404 or 405, the allowed methods and a trailing-slash redirect.
        """

    def allowed_methods(self, path: str | bytes) -> frozenset[str]:
        """
        The methods of every route whose pattern matches the path ('*' for a route of any method).
        """

    def routes(self) -> list[Route[T]]:
        """The routes and mounts, in the order they were added."""

    def freeze(self) -> None:
        """
        Makes the router immutable: add, mount and include raise FrozenRouterError.
        """

    @property
    def frozen(self) -> bool: ...

    @property
    def on_conflict(self) -> Literal['error', 'first']: ...

    def __len__(self) -> int: ...

    def __repr__(self) -> str: ...
