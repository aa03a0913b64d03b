"""Dependency analysis and the compiled call plan, driven without the HTTP layer."""

import asyncio
from typing import Annotated, Any

import pytest
from fasterapi.datastructures import Headers, QueryParams
from fasterapi.dependencies.utils import (
    NOTHING_SOLVED,
    compile_plan,
    get_dependant,
    read_path_values,
    run_plan,
)
from fasterapi.param_functions import Body, Depends, Header, Query
from pydantic import AfterValidator, BaseModel


class _Conn:
    """The attributes of a connection that the plan reads."""

    def __init__(
        self,
        query: str = "",
        headers: dict[str, str] | None = None,
        path_params: dict[str, Any] | None = None,
    ):
        self.scope: dict[str, Any] = {"path_params": path_params or {}}
        self.path_params = self.scope["path_params"]
        self.query_params = QueryParams(query)
        self.headers = Headers(headers=headers or {})
        self.cookies: dict[str, str] = {}


def _solve(endpoint: Any, path: str = "/", body: Any = None, **conn: Any) -> Any:
    dependant = get_dependant(path=path, call=endpoint)
    plan = compile_plan(dependant, embed_body_fields=len(dependant.body_params) > 1)
    return asyncio.run(run_plan(plan, _Conn(**conn), body))


def test_query_and_path_values() -> None:
    def endpoint(item_id: int, q: str | None = None, n: Annotated[int, Query(ge=1)] = 3) -> None: ...

    solved = _solve(endpoint, "/items/{item_id}", path_params={"item_id": "5"}, query="q=x")
    assert solved.errors == []
    assert solved.values == {"item_id": 5, "q": "x", "n": 3}


def test_missing_and_invalid_errors_shape() -> None:
    def endpoint(item_id: int, n: Annotated[int, Query(ge=1)]) -> None: ...

    solved = _solve(endpoint, "/items/{item_id}", path_params={"item_id": "abc"}, query="n=0")
    assert solved.errors == [
        {
            "type": "int_parsing",
            "loc": ("path", "item_id"),
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "abc",
        },
        {
            "type": "greater_than_equal",
            "loc": ("query", "n"),
            "msg": "Input should be greater than or equal to 1",
            "input": "0",
            "ctx": {"ge": 1},
        },
    ]
    solved = _solve(lambda n=Query(): None)
    assert solved.errors == [
        {"type": "missing", "loc": ("query", "n"), "msg": "Field required", "input": None}
    ]


def test_path_values_are_read_once_with_run_plans_values_and_errors() -> None:
    calls: list[int] = []

    def counted(v: int) -> int:
        calls.append(v)
        if v < 0:
            raise ValueError("negative")
        return v

    def endpoint(item_id: Annotated[int, AfterValidator(counted)], other: int) -> None: ...

    dependant = get_dependant(path="/items/{item_id}/{other}", call=endpoint)
    plan = compile_plan(dependant, embed_body_fields=False)
    assert plan.path_readers is not None  # (the plan that read_path_values reads)
    for params in ({"item_id": "5", "other": "6"}, {"item_id": "-5", "other": "x"}, {"item_id": "7"}):
        calls.clear()
        values, errors = read_path_values(plan.path_readers, params)
        validated = len(calls)
        solved = asyncio.run(run_plan(plan, _Conn(path_params=params)))
        assert values == solved.values
        assert repr(errors) == repr(solved.errors)  # (a ValueError in ctx equals only itself)
        assert validated == 1  # each value validated once, an invalid one too (a validator may count)
    assert [e["loc"] for e in errors] == [("path", "other")]


def test_header_underscore_conversion_and_lists() -> None:
    def endpoint(user_agent: Annotated[str, Header()], tag: Annotated[list[str], Query()] = []) -> None: ...  # noqa: B006

    solved = _solve(endpoint, headers={"user-agent": "ua"}, query="tag=a&tag=b")
    assert solved.values == {"user_agent": "ua", "tag": ["a", "b"]}


def test_sub_dependencies_cache_and_errors() -> None:
    calls: list[str] = []

    def common(token: str) -> str:
        calls.append(token)
        return token.upper()

    async def first(value: Annotated[str, Depends(common)]) -> str:
        return value + "1"

    def endpoint(a: Annotated[str, Depends(first)], b: Annotated[str, Depends(common)]) -> None: ...

    solved = _solve(endpoint, query="token=t")
    assert solved.errors == []
    assert solved.values == {"a": "T1", "b": "T"}
    assert calls == ["t"]
    failed = _solve(endpoint)
    assert [e["loc"] for e in failed.errors] == [("query", "token"), ("query", "token")]


class Item(BaseModel):
    name: str
    price: float


def test_body_single_and_embedded() -> None:
    def single(item: Item) -> None: ...

    solved = _solve(single, body={"name": "x", "price": 1})
    assert solved.values["item"] == Item(name="x", price=1)

    def embedded(item: Item, importance: Annotated[int, Body()]) -> None: ...

    solved = _solve(embedded, body={"item": {"name": "x"}, "importance": 2})
    assert solved.errors == [
        {"type": "missing", "loc": ("body", "item", "price"), "msg": "Field required", "input": {"name": "x"}}
    ]


def test_query_parameter_model() -> None:
    class Filters(BaseModel):
        limit: int = 10
        tags: list[str] = []

    def endpoint(f: Annotated[Filters, Query()]) -> None: ...

    solved = _solve(endpoint, query="limit=5&tags=a&tags=b")
    assert solved.values["f"] == Filters(limit=5, tags=["a", "b"])


def test_a_plan_with_nothing_to_solve_shares_a_read_only_result() -> None:
    async def endpoint() -> None:
        pass

    assert compile_plan(get_dependant(path="/", call=endpoint), embed_body_fields=False).empty  # takes it
    with pytest.raises(TypeError):
        NOTHING_SOLVED.values["leak"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        NOTHING_SOLVED.dependency_cache["leak"] = 1  # type: ignore[index]
    assert not NOTHING_SOLVED.errors
    assert NOTHING_SOLVED.background_tasks is None
    assert NOTHING_SOLVED.response is None
