"""The Router API around matching: routes(), len(), include(), freeze(), Match and Route objects."""

from __future__ import annotations

import uuid

import pytest
from fasterapi_router import FrozenRouterError, Match, Miss, Route, Router
from helpers import outcome, typed


def route_rows(router: Router[object]) -> list[tuple[str, str, object, bool]]:
    return [(r.method, r.path, r.value, r.mount) for r in router.routes()]


def test_routes_in_registration_order() -> None:
    r: Router[str] = Router()
    r.add("POST", "/b", "b")
    r.mount("/static", "s")
    r.add("*", "/a", "a")
    r.add(["GET", "PUT"], "/c", "c")
    r.mount("", "all")
    routes = r.routes()
    assert all(isinstance(x, Route) for x in routes)
    assert route_rows(r) == [
        ("POST", "/b", "b", False),
        ("*", "/static", "s", True),
        ("*", "/a", "a", False),
        ("GET", "/c", "c", False),
        ("PUT", "/c", "c", False),
        ("*", "", "all", True),
    ]
    assert len(r) == 6
    assert r.routes() is not r.routes()


def test_len_counts_method_pattern_pairs() -> None:
    r: Router[int] = Router()
    assert len(r) == 0
    r.add(["GET", "POST", "DELETE"], "/x", 1)
    assert len(r) == 3
    r.add("PUT", "/x", 2)
    r.mount("/m", 3)
    assert len(r) == 5


def test_route_value_is_the_object_added() -> None:
    value = object()
    r: Router[object] = Router()
    r.add("GET", "/x/{id:int}", value)
    m = r.match("GET", "/x/1")
    assert m is not None
    assert m.value is value
    assert r.routes()[0].value is value


def test_none_is_a_valid_value() -> None:
    r: Router[None] = Router()
    r.add("GET", "/x", None)
    r.mount("/m", None)
    assert outcome(r.match("GET", "/x")) == ("match", None, {}, "/x", "GET", None)
    assert outcome(r.match("GET", "/m/y")) == ("match", None, {}, "/m", "*", "/y")


def test_params_types() -> None:
    r: Router[str] = Router()
    r.add("GET", "/{a:int}/{b:float}/{c:uuid}/{d}/{e:str}/{f:path}", "v")
    u = uuid.uuid4()
    m = r.match("GET", f"/7/2.5/{u}/x/y/z/w")
    assert m is not None
    assert typed(m.params) == {
        "a": (int, 7),
        "b": (float, 2.5),
        "c": (uuid.UUID, u),
        "d": (str, "x"),
        "e": (str, "y"),
        "f": (str, "z/w"),
    }
    assert list(m.params) == ["a", "b", "c", "d", "e", "f"]  # in pattern order


def test_params_dict_is_fresh_per_call() -> None:
    r: Router[str] = Router()
    r.add("GET", "/u/{id:int}", "u")
    r.add("GET", "/static", "s")
    first = r.match("GET", "/u/1")
    second = r.match("GET", "/u/1")
    assert first is not None
    assert second is not None
    assert first.params is not second.params
    first.params["id"] = 99
    first.params["extra"] = True
    assert second.params == {"id": 1}
    third = r.lookup("GET", "/u/1")
    assert isinstance(third, Match)
    assert third.params == {"id": 1}
    a, b = r.match("GET", "/static"), r.match("GET", "/static")
    assert a is not None
    assert b is not None
    assert a.params == {}
    assert a.params is not b.params
    a.params["x"] = 1
    assert b.params == {}
    c = r.match("GET", "/static")
    assert c is not None
    assert c.params == {}


BYTES_PATHS = [
    "/",
    "/users/42",
    "/users/me",
    "/users/é",
    "/users/%C3%A9",
    "/files/a/b%2Fc",
    "/static/x/%20/é",
    "/nope",
    "/users/42/",
    "/static",
    "",
    "users",
]


@pytest.mark.parametrize("path", BYTES_PATHS)
def test_bytes_path_is_the_utf8_of_str_path(path: str) -> None:
    r: Router[str] = Router()
    r.add("GET", "/users/{id:int}", "int")
    r.add("GET", "/users/{name}", "name")
    r.add("POST", "/users/me", "me")
    r.add("GET", "/files/{p:path}", "files")
    r.mount("/static", "static")
    for method in ("GET", "POST", "PUT"):
        assert outcome(r.lookup(method, path.encode())) == outcome(r.lookup(method, path))
        assert outcome(r.match(method, path.encode())) == outcome(r.match(method, path))
    assert r.allowed_methods(path.encode()) == r.allowed_methods(path)


def test_methods_from_any_iterable() -> None:
    r: Router[int] = Router()
    r.add(("GET", "POST"), "/tuple", 1)
    r.add(iter(["GET"]), "/iter", 2)
    r.add({"PUT": None}, "/dict", 3)
    r.add(frozenset({"DELETE"}), "/set", 4)
    assert [(x.method, x.path) for x in r.routes()] == [
        ("GET", "/tuple"),
        ("POST", "/tuple"),
        ("GET", "/iter"),
        ("PUT", "/dict"),
        ("DELETE", "/set"),
    ]


def test_methods_from_a_generator_of_new_strings() -> None:
    # The generator makes each str as it is asked for; the router must not keep a view of one
    # after the generator has dropped it.
    names = [f"METHOD{i:03d}" + "X" * 40 for i in range(40)]
    r: Router[str] = Router()
    r.add((n.lower().upper() for n in names), "/x", "v")
    assert [x.method for x in r.routes()] == names
    for n in names:
        m = r.match(n, "/x")
        assert m is not None
        assert m.method == n


def test_match_method_and_route_of_a_star_route() -> None:
    r: Router[str] = Router()
    r.add("*", "/any/{x}", "any")
    m = r.match("PATCH", "/any/1")
    assert m is not None
    assert (m.method, m.route, m.tail) == ("*", "/any/{x}", None)
    assert r.allowed_methods("/any/1") == frozenset({"*"})


def test_miss_objects() -> None:
    r: Router[str] = Router()
    r.add("GET", "/x", "x")
    miss = r.lookup("POST", "/x")
    assert isinstance(miss, Miss)
    assert (miss.status_code, miss.allowed_methods, miss.redirect_path) == (405, frozenset({"GET"}), None)
    miss = r.lookup("GET", "/x/")
    assert isinstance(miss, Miss)
    assert (miss.status_code, miss.allowed_methods, miss.redirect_path) == (404, frozenset(), "/x")


# --- include -------------------------------------------------------------------------------------


def api() -> Router[str]:
    inner: Router[str] = Router()
    inner.add("GET", "/users/{id:int}", "get_user")
    inner.add(["POST", "PUT"], "/users", "write_users")
    inner.mount("/files", "files")
    inner.add("*", "/", "root")
    return inner


def test_include_copies_routes_and_mounts_under_prefix() -> None:
    outer: Router[str] = Router()
    outer.add("GET", "/", "home")
    outer.include("/api", api())
    assert route_rows(outer) == [
        ("GET", "/", "home", False),
        ("GET", "/api/users/{id:int}", "get_user", False),
        ("POST", "/api/users", "write_users", False),
        ("PUT", "/api/users", "write_users", False),
        ("*", "/api/files", "files", True),
        ("*", "/api/", "root", False),
    ]
    assert len(outer) == 6
    assert outcome(outer.match("GET", "/api/users/3")) == (
        "match",
        "get_user",
        {"id": (int, 3)},
        "/api/users/{id:int}",
        "GET",
        None,
    )
    assert outcome(outer.match("PUT", "/api/users")) == (
        "match",
        "write_users",
        {},
        "/api/users",
        "PUT",
        None,
    )
    assert outcome(outer.match("GET", "/api/files/x%20y")) == (
        "match",
        "files",
        {},
        "/api/files",
        "*",
        "/x%20y",
    )
    assert outcome(outer.lookup("GET", "/api/files")) == ("miss", 404, frozenset(), "/api/files/")
    assert outcome(outer.match("BREW", "/api/")) == ("match", "root", {}, "/api/", "*", None)
    assert outer.match("GET", "/users/3") is None


def test_include_with_empty_prefix() -> None:
    outer: Router[str] = Router()
    outer.include("", api())
    assert route_rows(outer) == route_rows(api())
    assert outcome(outer.match("GET", "/users/3"))[1] == "get_user"


def test_include_prefix_with_params() -> None:
    outer: Router[str] = Router()
    outer.include("/t/{tenant}/v{version:int}", api())
    m = outer.match("GET", "/t/acme/v2/users/3")
    assert m is not None
    assert typed(m.params) == {"tenant": (str, "acme"), "version": (int, 2), "id": (int, 3)}
    assert m.route == "/t/{tenant}/v{version:int}/users/{id:int}"
    m = outer.match("GET", "/t/acme/v2/files/a")
    assert m is not None
    assert (m.params, m.tail) == ({"tenant": "acme", "version": 2}, "/a")


def test_include_takes_a_copy() -> None:
    inner = api()
    outer: Router[str] = Router()
    outer.include("/api", inner)
    inner.add("GET", "/later", "later")
    outer.add("GET", "/api/outer", "outer")
    assert outer.match("GET", "/api/later") is None
    assert inner.match("GET", "/outer") is None
    assert len(inner) == 6
    assert len(outer) == 6


def test_include_of_a_frozen_router_and_nested_includes() -> None:
    inner = api()
    inner.freeze()
    middle: Router[str] = Router()
    middle.include("/v1", inner)
    outer: Router[str] = Router()
    outer.include("/api", middle)
    m = outer.match("GET", "/api/v1/users/5")
    assert m is not None
    assert (m.value, m.route, m.params) == ("get_user", "/api/v1/users/{id:int}", {"id": 5})
    m = outer.match("GET", "/api/v1/files/css/a.css")
    assert m is not None
    assert (m.value, m.route, m.tail) == ("files", "/api/v1/files", "/css/a.css")


def test_include_values_are_the_same_objects() -> None:
    value = object()
    inner: Router[object] = Router()
    inner.add("GET", "/x", value)
    outer: Router[object] = Router()
    outer.include("/p", inner)
    m = outer.match("GET", "/p/x")
    assert m is not None
    assert m.value is value


def test_include_self() -> None:
    r = api()
    r.include("/copy", r)
    assert len(r) == 10
    assert route_rows(r)[5:] == [(m, "/copy" + p, v, mount) for m, p, v, mount in route_rows(api())]
    m = r.match("GET", "/copy/users/1")
    assert m is not None
    assert m.value == "get_user"


# --- freeze --------------------------------------------------------------------------------------


def test_freeze() -> None:
    r = api()
    assert r.frozen is False
    r.freeze()
    assert r.frozen is True
    with pytest.raises(FrozenRouterError):
        r.add("GET", "/new", "new")
    assert r.frozen is True
    m = r.match("GET", "/users/1")
    assert m is not None
    assert m.value == "get_user"
    assert len(r) == 5


def test_on_conflict_property() -> None:
    assert Router().on_conflict == "error"
    assert Router(on_conflict="error").on_conflict == "error"
    assert Router(on_conflict="first").on_conflict == "first"
