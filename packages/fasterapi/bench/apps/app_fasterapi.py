"""The app of bench_framework.py. app_fastapi.py and app_fasterapi.py differ only in their imports.

GET /json, a small dict; GET /users/{user_id}, an int path parameter and a pydantic model through
response_model; POST /items, a pydantic body returned as is; GET /deps, two dependencies, one of
them reading query parameters. Everything is `async def`: what is timed is the framework, not the
thread pool that a plain `def` endpoint would be sent to.
"""

from typing import Annotated, Any

from fasterapi import Depends, FastAPI
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


SETTINGS = {"name": "bench", "version": 1}


@app.get("/json")
async def get_json() -> dict[str, Any]:
    return {"message": "Hello, World!", "count": 3, "ok": True}


@app.get("/users/{user_id}", response_model=User)
async def get_user(user_id: int) -> Any:
    return User(id=user_id, name=f"user{user_id}", email=f"user{user_id}@example.com")


@app.post("/items", response_model=Item)
async def create_item(item: Item) -> Any:
    return item


async def get_settings() -> dict[str, Any]:
    return SETTINGS


async def pagination(limit: int = 10, offset: int = 0) -> dict[str, int]:
    return {"limit": limit, "offset": offset}


@app.get("/deps")
async def with_dependencies(
    settings: Annotated[dict[str, Any], Depends(get_settings)],
    page: Annotated[dict[str, int], Depends(pagination)],
) -> dict[str, Any]:
    return {"app": settings["name"], **page}
