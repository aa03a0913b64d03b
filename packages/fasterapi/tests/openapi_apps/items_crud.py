from enum import Enum
from typing import Annotated, Literal

from fasterapi import Body, Cookie, FastAPI, Header, HTTPException, Path, Query, status
from pydantic import BaseModel, Field


class Tag(str, Enum):  # noqa: UP042 - the str mixin is what apps use
    red = "red"
    blue = "blue"


class Image(BaseModel):
    url: str
    name: str


class Item(BaseModel):
    name: str = Field(examples=["Foo"])
    description: str | None = Field(default=None, title="The description", max_length=300)
    price: float = Field(gt=0, description="Must be positive")
    tax: float | None = None
    tags: set[str] = set()
    images: list[Image] | None = None
    kind: Literal["a", "b"] = "a"


class ItemOut(BaseModel):
    name: str
    price: float


app = FastAPI(title="Items", version="2.5.0", description="Item **CRUD**")


@app.get("/items/")
async def list_items(
    q: Annotated[str | None, Query(min_length=3, max_length=50, pattern="^fixed", alias="item-query")] = None,
    skip: int = 0,
    limit: Annotated[int, Query(le=100, deprecated=True)] = 10,
    tags: Annotated[list[str] | None, Query()] = None,
    hidden: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> list[ItemOut]:
    return []


@app.get("/items/{item_id}", response_model=ItemOut, responses={404: {"description": "Not found"}})
async def read_item(
    item_id: Annotated[int, Path(title="The ID", ge=1)],
    user_agent: Annotated[str | None, Header()] = None,
    x_token: Annotated[list[str] | None, Header()] = None,
    session: Annotated[str | None, Cookie()] = None,
    color: Tag = Tag.red,
):
    raise HTTPException(404)


@app.post("/items/", status_code=status.HTTP_201_CREATED, tags=["items"], summary="Create an item")
async def create_item(item: Item) -> Item:
    """Create an item with all the information.

    - **name**: each item must have a name
    \f
    :param item: hidden from the docs
    """
    return item


@app.put("/items/{item_id}", tags=["items"], deprecated=True)
async def update_item(
    item_id: int,
    item: Item,
    importance: Annotated[int, Body(gt=0)],
    note: Annotated[str | None, Body(embed=False)] = None,
):
    return {}


@app.patch("/items/{item_id}/name", operation_id="rename_item", response_description="Renamed")
async def rename(item_id: int, name: Annotated[str, Body(embed=True)]) -> dict[str, str]:
    return {}


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int) -> None:
    return None


@app.get("/hidden", include_in_schema=False)
async def hidden() -> dict[str, str]:
    return {}
