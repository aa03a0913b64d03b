"""The anchor of bench_server.py on socketify's own API (uWebSockets): app_rsgi.py's work, same answers.

Routes by socketify's router, the path parameter parsed with int() (422 if it is not one), JSON
read and written with orjson; no pydantic, no validation of the POST body beyond its being JSON.

    python app_socketify.py PORT        (listens on 127.0.0.1 only)
"""

import sys
from typing import Any

import orjson
from socketify import App, AppListenOptions

JSON = b"application/json"
INVALID = b'{"detail":"Unprocessable Content"}'

app = App()


def plaintext(res: Any, req: Any) -> None:
    res.send(b"Hello, World!", content_type=b"text/plain; charset=utf-8")


def get_json(res: Any, req: Any) -> None:
    res.send(orjson.dumps({"message": "Hello, World!", "count": 3, "ok": True}), content_type=JSON)


def get_user(res: Any, req: Any) -> None:
    try:
        user_id = int(req.get_parameter(0))
    except ValueError:
        res.send(INVALID, content_type=JSON, status=422)
        return
    user = {"id": user_id, "name": f"user{user_id}", "email": f"user{user_id}@example.com", "active": True}
    res.send(orjson.dumps(user), content_type=JSON)


def create_item(res: Any, req: Any) -> None:
    # The body through on_data, not `await res.get_data()`: under wrk's POST load socketify 0.0.31
    # aborts the process with the latter ("Fatal Python error: b_from_handle ... garbage collected",
    # from uws_generic_on_data_handler).
    chunks: list[bytes] = []

    def on_data(res: Any, chunk: bytes | None, is_end: bool) -> None:
        if chunk:
            chunks.append(chunk)
        if not is_end:
            return
        try:
            item = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            res.send(INVALID, content_type=JSON, status=422)
            return
        res.send(orjson.dumps(item), content_type=JSON)

    res.on_data(on_data)


app.get("/plaintext", plaintext)
app.get("/json", get_json)
app.get("/users/:id", get_user)
app.post("/items", create_item)

if __name__ == "__main__":
    app.listen(AppListenOptions(port=int(sys.argv[1]), host="127.0.0.1"))
    app.run()
