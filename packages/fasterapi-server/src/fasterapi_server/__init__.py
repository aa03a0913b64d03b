"""fasterapi-server: the native engine of FasterAPI, and a server for any ASGI 3 application.

    from fasterapi_server import serve
    serve(app, host="127.0.0.1", port=8000)

I/O threads written in C++ accept, read, parse (fasterapi-http1) and route (fasterapi-router)
requests outside the GIL, and hand them to the Python thread in batches; see Server and Config.
"""

import os

from fasterapi_server._config import Config, OptionError, default_threads
from fasterapi_server._serve import Server, serve
from fasterapi_server._version import __version__
from fasterapi_server._workers import run

__all__ = ["Config", "OptionError", "Server", "__version__", "default_threads", "get_include", "run", "serve"]


def get_include() -> str:
    """The directory holding the engine's C++ headers (``#include <fasterapi/server/engine.hpp>``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "include")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(os.path.dirname(here)), "include")
