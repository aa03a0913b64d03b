"""The example app: a small inventory API, written exactly as for FastAPI but importing fasterapi.

    ./dev demo                                   # builds everything and serves it on 127.0.0.1:8000
    fasterapi run app:app --app-dir examples     # the same, with fasterapi installed
    uvicorn app:app --app-dir examples           # or on any ASGI server

Then open http://127.0.0.1:8000/docs (the OpenAPI docs) or http://127.0.0.1:8000/page (an HTML
page), or:

    curl http://127.0.0.1:8000/items/1
    curl -X POST http://127.0.0.1:8000/items -H 'content-type: application/json' \\
         -d '{"name": "lamp", "price": 30.5, "tags": ["light"]}'
    curl 'http://127.0.0.1:8000/items?tag=light&limit=5'
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fasterapi import Depends, FastAPI, Header, HTTPException, Query, status
from fasterapi.responses import HTMLResponse
from pydantic import BaseModel, Field


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0)
    tags: list[str] = []


class Item(ItemIn):
    id: int


class Inventory:
    """The app's storage: in memory, one per process."""

    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self.next_id = 1

    def add(self, data: ItemIn) -> Item:
        item = Item(id=self.next_id, **data.model_dump())
        self.items[item.id] = item
        self.next_id += 1
        return item


inventory = Inventory()
inventory.add(ItemIn(name="chair", price=49.0, tags=["furniture"]))
inventory.add(ItemIn(name="desk lamp", price=30.5, tags=["light", "furniture"]))

app = FastAPI(title="Inventory", version="1.0.0", summary="The FasterAPI example app")


def get_inventory() -> Inventory:
    return inventory


def require_token(x_token: Annotated[str | None, Header()] = None) -> None:
    """Changes need the header `X-Token: secret` (a stand-in for real authentication)."""
    if x_token != "secret":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "X-Token header missing or wrong")


Store = Annotated[Inventory, Depends(get_inventory)]


@app.get("/")
async def root() -> dict[str, str]:
    return {"message": "Hello from FasterAPI", "docs": "/docs"}


@app.get("/items", response_model=list[Item])
async def list_items(
    store: Store,
    tag: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Item]:
    found = [item for item in store.items.values() if tag is None or tag in item.tags]
    return found[:limit]


@app.get("/items/{item_id}", response_model=Item)
async def get_item(item_id: int, store: Store) -> Item:
    if item_id not in store.items:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {item_id}")
    return store.items[item_id]


@app.post("/items", response_model=Item, status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemIn, store: Store) -> Item:
    return store.add(data)


@app.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(require_token)])
def delete_item(item_id: int, store: Store) -> None:
    if store.items.pop(item_id, None) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {item_id}")


@app.get("/page", response_class=HTMLResponse, include_in_schema=False)
async def page(store: Store) -> str:
    rows = "".join(
        f"<tr><td>{item.id}</td><td>{escape(item.name)}</td><td>{item.price:.2f}</td>"
        f"<td>{escape(', '.join(item.tags))}</td></tr>"
        for item in store.items.values()
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Inventory</title></head><body>"
        "<h1>Inventory</h1><table><tr><th>id</th><th>name</th><th>price</th><th>tags</th></tr>"
        f"{rows}</table><p><a href=/docs>API docs</a></p></body></html>"
    )
