"""The raw anchor of bench_server.py on granian's RSGI: app_fastapi.py's endpoints done by hand.

The same answers, routed by comparing strings, the path parameter parsed with int() (422 if it is
not one), JSON read and written with orjson; no pydantic, no validation of the POST body beyond
its being JSON: the least a server's own Python API must do for these answers.

    granian --interface rsgi ... app_rsgi:app
"""

from typing import Any

import orjson

JSON = [("content-type", "application/json")]
TEXT = [("content-type", "text/plain; charset=utf-8")]
NOT_FOUND = b'{"detail":"Not Found"}'
INVALID = b'{"detail":"Unprocessable Content"}'


async def app(scope: Any, proto: Any) -> None:
    if scope.proto != "http":
        return
    method, path = scope.method, scope.path
    if method == "GET" and path == "/plaintext":
        proto.response_str(200, TEXT, "Hello, World!")
    elif method == "GET" and path == "/json":
        proto.response_bytes(200, JSON, orjson.dumps({"message": "Hello, World!", "count": 3, "ok": True}))
    elif method == "GET" and path.startswith("/users/") and "/" not in path[7:]:
        try:
            user_id = int(path[7:])
        except ValueError:
            proto.response_bytes(422, JSON, INVALID)
            return
        user = {
            "id": user_id,
            "name": f"user{user_id}",
            "email": f"user{user_id}@example.com",
            "active": True,
        }
        proto.response_bytes(200, JSON, orjson.dumps(user))
    elif method == "POST" and path == "/items":
        try:
            item = orjson.loads(await proto())
        except orjson.JSONDecodeError:
            proto.response_bytes(422, JSON, INVALID)
            return
        proto.response_bytes(200, JSON, orjson.dumps(item))
    else:
        proto.response_bytes(404, JSON, NOT_FOUND)
