"""Serves app_work.py with fasterapi_server.run() and WORKERS worker processes, as bench_workers.py
does.

    python serve_workers.py PORT WORKERS
"""

import sys
from pathlib import Path

from fasterapi_server import Config, run

if __name__ == "__main__":
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    config = Config.from_kwargs(host="127.0.0.1", port=port, log_level="warning", access_log=False)
    run("app_work:app", config, workers=workers, app_dir=str(Path(__file__).resolve().parent))
