"""The app of bench_server.py. app_fastapi.py and app_fasterapi.py differ only in their imports.

GET /plaintext, a PlainTextResponse; GET /json, a small dict; GET /users/{user_id}, an int path
parameter and a pydantic model through response_model; POST /items, a pydantic body, validated and
returned. Everything is `async def`: what is timed is the server and the framework, not a thread
pool.
"""

from typing import Any

from fasterapi import FastAPI
from fasterapi.responses import PlainTextResponse
from pydantic import BaseModel

app = FastAPI()


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


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def get_json() -> dict[str, Any]:
    return {"message": "Hello, World!", "count": 3, "ok": True}


@app.get("/users/{user_id}", response_model=User)
async def get_user(user_id: int) -> Any:
    return User(id=user_id, name=f"user{user_id}", email=f"user{user_id}@example.com")


@app.post("/items", response_model=Item)
async def create_item(item: Item) -> Any:
    return item
