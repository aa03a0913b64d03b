from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fasterapi import Body, FastAPI
from pydantic import BaseModel, ConfigDict, Field


class Item(BaseModel):
    name: str
    description: str | None = None
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Foo", "description": "A thing"}]})


class Cat(BaseModel):
    pet_type: Literal["cat"]
    meows: int


class Dog(BaseModel):
    pet_type: Literal["dog"]
    barks: float


class Owner(BaseModel):
    pet: Cat | Dog = Field(discriminator="pet_type")
    friends: list["Owner"] = []


@dataclass
class Point:
    x: int
    y: int = 0
    labels: list[str] = field(default_factory=list)


app = FastAPI()


@app.post("/items/")
def create(item: Item) -> Item:
    return item


@app.get("/items/")
def read() -> list[Item]:
    return []


@app.post("/owners/")
def owner(owner: Owner) -> Owner:
    return owner


@app.post("/points/")
def points(point: Point) -> Point:
    return point


@app.put("/misc/{item_id}")
def misc(
    item_id: UUID,
    start: Annotated[date, Body()],
    duration: Annotated[timedelta, Body()],
    amount: Annotated[Decimal, Body(examples=[Decimal("1.5")])],
    extra: Annotated[dict[str, int], Body(openapi_examples={"one": {"summary": "One", "value": {"a": 1}}})],
) -> dict[str, str]:
    return {}


app_single = FastAPI(separate_input_output_schemas=False)
app_single.post("/items/")(create)
app_single.get("/items/")(read)
