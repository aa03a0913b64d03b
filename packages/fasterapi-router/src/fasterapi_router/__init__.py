"""A radix-tree HTTP router with FastAPI/Starlette path syntax.

>>> from fasterapi_router import Router
>>> r = Router()
>>> r.add("GET", "/users/{user_id:int}", "get_user")
>>> m = r.match("GET", "/users/42")
>>> m.value, m.params
('get_user', {'user_id': 42})
"""

from __future__ import annotations

import os

from ._errors import FrozenRouterError, PatternError, RouteConflictError, RouterError
from ._router import Match, Miss, Route, Router
from ._version import __version__

__all__ = [
    "CONVERTERS",
    "FrozenRouterError",
    "Match",
    "Miss",
    "PatternError",
    "Route",
    "RouteConflictError",
    "Router",
    "RouterError",
    "__version__",
    "get_include",
]

#: The converters a parameter may name: ``{id:int}``.
CONVERTERS: tuple[str, ...] = ("str", "int", "float", "uuid", "path")


def get_include() -> str:
    """The directory holding the C++ headers (``#include <fasterapi/router/router.hpp>``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "include")
    if os.path.isdir(installed):
        return installed
    # An editable install runs this file from the source tree, where the headers sit higher up.
    return os.path.join(os.path.dirname(os.path.dirname(here)), "include")
