"""FasterAPI: a FastAPI-compatible web framework."""

from __future__ import annotations

from importlib import metadata as _metadata

from . import status as status
from .applications import FastAPI as FastAPI
from .background import BackgroundTasks as BackgroundTasks
from .cli import run as run
from .datastructures import UploadFile as UploadFile
from .exceptions import HTTPException as HTTPException
from .exceptions import WebSocketException as WebSocketException
from .param_functions import Body as Body
from .param_functions import Cookie as Cookie
from .param_functions import Depends as Depends
from .param_functions import File as File
from .param_functions import Form as Form
from .param_functions import Header as Header
from .param_functions import Path as Path
from .param_functions import Query as Query
from .param_functions import Security as Security
from .requests import Request as Request
from .responses import Response as Response
from .routing import APIRouter as APIRouter
from .websockets import WebSocket as WebSocket
from .websockets import WebSocketDisconnect as WebSocketDisconnect

try:
    __version__ = _metadata.version("fasterapi-framework")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0"  # keep in step with meson.build
