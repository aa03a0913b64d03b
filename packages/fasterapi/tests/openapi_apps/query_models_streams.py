from collections.abc import AsyncIterable, Iterable
from typing import Annotated, Literal

from fasterapi import Cookie, FastAPI, Header, Query
from fasterapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}
    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    traceparent: str | None = None


class Cookies(BaseModel):
    session_id: str
    tracker: str | None = None


class Item(BaseModel):
    name: str
    price: float


app = FastAPI()


@app.get("/items/")
async def read_items(filter_query: Annotated[FilterParams, Query()]) -> FilterParams:
    return filter_query


@app.get("/headers/")
async def headers(h: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
    return h


@app.get("/cookies/")
async def cookies(c: Annotated[Cookies, Cookie()]) -> Cookies:
    return c


@app.get("/items/stream")
async def stream_items() -> AsyncIterable[Item]:
    yield Item(name="a", price=1)


@app.get("/items/stream-sync")
def stream_sync() -> Iterable[Item]:
    yield Item(name="a", price=1)


@app.get("/items/stream-untyped")
async def stream_untyped():
    yield {"a": 1}


@app.get("/sse/items", response_class=EventSourceResponse)
async def sse_items() -> AsyncIterable[Item]:
    yield Item(name="a", price=1)


@app.get("/sse/events", response_class=EventSourceResponse)
async def sse_events() -> AsyncIterable[ServerSentEvent]:
    yield ServerSentEvent(data="x")
