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


PLAIN_AND_NOT = [
    {"message": "Hello, World!", "count": 3, "ok": True, "none": None, "ratio": 0.5, "big": 2**70},
    [1, "two", [3.0, {"four": (5, 6)}]],
    "just a string",
    {"_sa_instance_state": 1, "kept": 2},  # jsonable_encoder leaves the first out
    {1: "int key", None: "none key"},
    {"when": datetime.date(2020, 1, 2), "colour": Color.red, "model": M()},
    [D(1, [2])],
]


def test_an_endpoints_plain_data_is_written_as_jsonable_encoder_and_json_response_would() -> None:
    # Plain values take a one-pass writer; the others, the long way. Same bytes either way.
    from fasterapi import FastAPI, status
    from fasterapi.responses import JSONResponse
    from fasterapi.testclient import TestClient

    app = FastAPI()

    @app.get("/{i}")
    def get(i: int):  # type: ignore[no-untyped-def]  # (no annotation: no response model)
        return PLAIN_AND_NOT[i]

    @app.get("/created/{i}", status_code=status.HTTP_201_CREATED)
    def created(i: int):  # type: ignore[no-untyped-def]
        return PLAIN_AND_NOT[i]

    with TestClient(app) as client:
        for i, value in enumerate(PLAIN_AND_NOT):
            expected = JSONResponse(jsonable_encoder(value)).body
            for path, code in ((f"/{i}", 200), (f"/created/{i}", 201)):
                r = client.get(path)
                assert r.status_code == code
                assert r.content == expected, (i, value)
                assert r.headers["content-type"] == "application/json"
                assert r.headers["content-length"] == str(len(expected))
