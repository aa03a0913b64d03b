"""The ceiling of bench_framework.py: the work of app_fastapi.py done by hand on bare ASGI.

The same endpoints and answers, with the same pydantic models, routed by comparing strings,
the path parameter and the query parsed by hand, the body validated by `model_validate_json`
and the answers serialized by `json.dumps` or `model_dump_json`: what any framework must at
least do, with nothing else.
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError


class User(BaseModel):
    id: int
    name: str
    email: str
    active: bool = True


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []
    description: str | None = None


SETTINGS = {"name": "bench", "version": 1}
NOT_FOUND = b'{"detail":"Not Found"}'
INVALID = b'{"detail":"Unprocessable Content"}'


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    method, path = scope["method"], scope["path"]
    status = 200
    if method == "GET" and path == "/json":
        body = dumps({"message": "Hello, World!", "count": 3, "ok": True})
    elif method == "GET" and path.startswith("/users/") and "/" not in path[7:]:
        try:
            user_id = int(path[7:])
        except ValueError:
            status, body = 422, INVALID
        else:
            body = (
                User(id=user_id, name=f"user{user_id}", email=f"user{user_id}@example.com")
                .model_dump_json()
                .encode()
            )
    elif method == "POST" and path == "/items":
        try:
            item = Item.model_validate_json(await read_body(receive))
        except ValidationError:
            status, body = 422, INVALID
        else:
            body = item.model_dump_json().encode()
    elif method == "GET" and path == "/deps":
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        try:
            page = {"limit": int(query.get("limit", 10)), "offset": int(query.get("offset", 0))}
        except ValueError:
            status, body = 422, INVALID
        else:
            body = dumps({"app": SETTINGS["name"], **page})
    else:
        status, body = 404, NOT_FOUND
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
