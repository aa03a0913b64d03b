"""The app `fasterapi run` serves in tests/test_cli.py: which process answered."""

import os

from fasterapi import FastAPI

app = FastAPI()


@app.get("/")
def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


def create_app() -> FastAPI:
    """For --factory."""
    return app
