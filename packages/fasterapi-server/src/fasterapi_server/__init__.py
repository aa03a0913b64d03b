"""fasterapi-server: the native engine of FasterAPI, and a server for any ASGI 3 application.

    from fasterapi_server import serve
    serve(app, host="127.0.0.1", port=8000)

I/O threads written in C++ accept, read, parse (fasterapi-http1) and route (fasterapi-router)
requests outside the GIL, and hand them to the Python thread in batches; see Server and Config.

The server's names are imported on first use: `fasterapi_server.json`, or the native Response
constructor that fasterapi installs (`_response`), come without the server (asyncio, the engine,
the process model).
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from fasterapi_server._version import __version__

if TYPE_CHECKING:
    from fasterapi_server._config import Config, OptionError, default_threads
    from fasterapi_server._serve import Server, serve
    from fasterapi_server._workers import run

__all__ = ["Config", "OptionError", "Server", "__version__", "default_threads", "get_include", "run", "serve"]

# Where each name lives.
_LAZY = {
    "Config": "_config",
    "OptionError": "_config",
    "default_threads": "_config",
    "Server": "_serve",
    "serve": "_serve",
    "run": "_workers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # (found directly from now on)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def get_include() -> str:
    """The directory holding the engine's C++ headers (``#include <fasterapi/server/engine.hpp>``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "include")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(os.path.dirname(here)), "include")
