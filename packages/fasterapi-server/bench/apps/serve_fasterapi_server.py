"""Launches one app of this folder on fasterapi-server, one worker, as bench_server.py does.

    python serve_fasterapi_server.py app_fasterapi|app_fastapi PORT [THREADS]

A fasterapi app takes the server's native path; the FastAPI app, its generic ASGI path. THREADS,
the I/O threads, defaults to the server's default (0, the I/O on the Python thread, for a process
pinned to one CPU).
"""

import importlib
import sys
from pathlib import Path

from fasterapi_server import serve

if __name__ == "__main__":
    module, port = sys.argv[1], int(sys.argv[2])
    threads = {"threads": int(sys.argv[3])} if len(sys.argv) > 3 else {}
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    app = importlib.import_module(module).app
    serve(app, host="127.0.0.1", port=port, **threads)
