from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from decimal import Decimal
from pathlib import PurePosixPath

from fasterapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field


class Color(enum.Enum):
    red = "r"


class M(BaseModel):
    a: int = 1
    b: str | None = Field(default=None, alias="B")


@dataclasses.dataclass
class D:
    x: int
    y: list[int]


def test_scalars_and_containers() -> None:
    value = {
        "d": datetime.date(2020, 1, 2),
        "dec": Decimal("1"),
        "dec2": Decimal("1.5"),
        "u": uuid.UUID(int=1),
        "p": PurePosixPath("/a"),
        "s": {1},
        "e": Color.red,
        "t": (1, 2),
        "_sa_x": 1,
    }
    assert jsonable_encoder(value) == {
        "d": "2020-01-02",
        "dec": 1,
        "dec2": 1.5,
        "u": "00000000-0000-0000-0000-000000000001",
        "p": "/a",
        "s": [1],
        "e": "r",
        "t": [1, 2],
    }


def test_models_and_dataclasses() -> None:
    assert jsonable_encoder(M(B="x")) == {"a": 1, "B": "x"}
    assert jsonable_encoder(M(), by_alias=False, exclude_none=True) == {"a": 1}
    assert jsonable_encoder(M(), exclude_unset=True) == {}
    assert jsonable_encoder(D(1, [2])) == {"x": 1, "y": [2]}
    assert jsonable_encoder({"a": 1, "b": None}, exclude_none=True) == {"a": 1}
    assert jsonable_encoder({"a": 1, "b": 2}, include={"a"}) == {"a": 1}
    assert jsonable_encoder(3, custom_encoder={int: str}) == "3"
