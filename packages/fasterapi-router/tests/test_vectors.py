"""Matching vectors: (routes, request) -> the route that wins, or a 404/405 miss.

A route is written "METHODS PATTERN" ("GET /users/{id:int}", "GET,POST /items", "* /any") or
"MOUNT PREFIX"; its value is that text. Every vector runs with the routes registered in the order
written and in the reverse order (priority must not depend on it), with the path as str and as
UTF-8 bytes, through match(), lookup() and allowed_methods().
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fasterapi_router import Match, Miss, Router
from helpers import typed

U = "a8098c1a-f86e-11da-bd1a-00112444be1e"
UU = uuid.UUID(U)
DIGITS32 = "12345678123456781234567812345678"  # a uuid without dashes, an int, a float and a str


@dataclass(frozen=True)
class Hit:
    entry: str  # the route that must win
    params: dict[str, Any] = field(default_factory=dict)
    tail: str | None = None


@dataclass(frozen=True)
class NotFound:
    redirect: str | None = None


@dataclass(frozen=True)
class NotAllowed:
    allowed: frozenset[str]


Expect = Hit | NotFound | NotAllowed


@dataclass(frozen=True)
class Vector:
    entries: tuple[str, ...]
    method: str
    path: str | bytes
    expect: Expect


def vectors(entries: list[str], *requests: tuple[str, str | bytes, Expect]) -> list[Vector]:
    return [Vector(tuple(entries), method, path, expect) for method, path, expect in requests]


def not_allowed(*methods: str) -> NotAllowed:
    return NotAllowed(frozenset(methods))


STATIC = [
    *vectors(["GET /"], ("GET", "/", Hit("GET /")), ("GET", "", NotFound()), ("GET", "//", NotFound())),
    *vectors(
        ["GET /users"],
        ("GET", "/users", Hit("GET /users")),
        ("GET", "/Users", NotFound()),
        ("GET", "/usersx", NotFound()),
        ("GET", "/user", NotFound()),
        ("GET", "users", NotFound()),
        ("GET", "", NotFound()),
        ("GET", "/users/x", NotFound()),
    ),
    *vectors(
        ["GET /a//b"],
        ("GET", "/a//b", Hit("GET /a//b")),
        ("GET", "/a/b", NotFound()),
        ("GET", "/a///b", NotFound()),
    ),
    *vectors(["GET /a/b"], ("GET", "/a//b", NotFound()), ("GET", "//a/b", NotFound())),
    *vectors(["GET /users/me/"], ("GET", "/users/me/", Hit("GET /users/me/"))),
    *vectors(
        ["GET /café"],
        ("GET", "/café", Hit("GET /café")),
        ("GET", "/caf%C3%A9", Hit("GET /café")),
        ("GET", "/caf%c3%a9", Hit("GET /café")),
        ("GET", b"/caf\xc3\xa9", Hit("GET /café")),
        ("GET", "/cafe", NotFound()),
    ),
    *vectors(
        ["GET /a b"],
        ("GET", "/a b", Hit("GET /a b")),
        ("GET", "/a%20b", Hit("GET /a b")),
        ("GET", "/a+b", NotFound()),
    ),
    *vectors(
        ["GET /a+b"],
        ("GET", "/a+b", Hit("GET /a+b")),
        ("GET", "/a%2Bb", Hit("GET /a+b")),
        ("GET", "/a%20b", NotFound()),
    ),
]

CONVERTERS = [
    *vectors(
        ["GET /u/{name}"],
        ("GET", "/u/alice", Hit("GET /u/{name}", {"name": "alice"})),
        ("GET", "/u/42", Hit("GET /u/{name}", {"name": "42"})),
        ("GET", "/u/1.5", Hit("GET /u/{name}", {"name": "1.5"})),
        ("GET", "/u/a+b", Hit("GET /u/{name}", {"name": "a+b"})),
        ("GET", "/u/a%20b", Hit("GET /u/{name}", {"name": "a b"})),
        ("GET", "/u/a%2Fb", Hit("GET /u/{name}", {"name": "a/b"})),
        ("GET", "/u/%E2%82%AC", Hit("GET /u/{name}", {"name": "€"})),
        ("GET", "/u/€", Hit("GET /u/{name}", {"name": "€"})),
        ("GET", "/u/a%0A", Hit("GET /u/{name}", {"name": "a\n"})),
        ("GET", "/u/", NotFound()),
        ("GET", "/u", NotFound()),
        ("GET", "/u/a/b", NotFound()),
    ),
    *vectors(["GET /u/{name:str}"], ("GET", "/u/alice", Hit("GET /u/{name:str}", {"name": "alice"}))),
    *vectors(
        ["GET /n/{n:int}"],
        ("GET", "/n/42", Hit("GET /n/{n:int}", {"n": 42})),
        ("GET", "/n/0", Hit("GET /n/{n:int}", {"n": 0})),
        ("GET", "/n/007", Hit("GET /n/{n:int}", {"n": 7})),
        ("GET", "/n/%34%32", Hit("GET /n/{n:int}", {"n": 42})),
        ("GET", "/n/999999999999999999", Hit("GET /n/{n:int}", {"n": 999999999999999999})),
        ("GET", "/n/9223372036854775808", Hit("GET /n/{n:int}", {"n": 2**63})),
        ("GET", "/n/12345678901234567890123", Hit("GET /n/{n:int}", {"n": 12345678901234567890123})),
        ("GET", "/n/" + "9" * 4300, Hit("GET /n/{n:int}", {"n": int("9" * 4300)})),
        ("GET", "/n/" + "0" * 4300, Hit("GET /n/{n:int}", {"n": 0})),
        ("GET", "/n/" + "9" * 4301, NotFound()),
        ("GET", "/n/" + "0" * 4301, NotFound()),
        *[
            ("GET", "/n/" + bad, NotFound())
            for bad in [
                "-1",
                "+1",
                "1.0",
                "1e3",
                "%201",
                "1_000",
                "0x10",
                "\u0661\u0662",
                "",
                "a1",
                "42\n",
                "42%0A",
            ]
        ],
    ),
    *vectors(
        ["GET /f/{x:float}"],
        ("GET", "/f/1.5", Hit("GET /f/{x:float}", {"x": 1.5})),
        ("GET", "/f/3", Hit("GET /f/{x:float}", {"x": 3.0})),
        ("GET", "/f/0.1", Hit("GET /f/{x:float}", {"x": 0.1})),
        ("GET", "/f/007.50", Hit("GET /f/{x:float}", {"x": 7.5})),
        ("GET", "/f/" + "9" * 400, Hit("GET /f/{x:float}", {"x": float("9" * 400)})),
        ("GET", "/f/1%2E5", Hit("GET /f/{x:float}", {"x": 1.5})),
        *[
            ("GET", "/f/" + bad, NotFound())
            for bad in ["1.", ".5", "1e5", "inf", "nan", "-1.5", "1.2.3", "1,5", "", "1.5x"]
        ],
    ),
    *vectors(
        ["GET /i/{id:uuid}"],
        ("GET", "/i/" + U, Hit("GET /i/{id:uuid}", {"id": UU})),
        ("GET", "/i/" + U.upper(), Hit("GET /i/{id:uuid}", {"id": UU})),
        ("GET", "/i/" + U.replace("-", ""), Hit("GET /i/{id:uuid}", {"id": UU})),
        ("GET", "/i/a8098c1af86e-11da-bd1a00112444be1e", Hit("GET /i/{id:uuid}", {"id": UU})),
        ("GET", "/i/%61" + U[1:], Hit("GET /i/{id:uuid}", {"id": UU})),
        *[
            ("GET", "/i/" + bad, NotFound())
            for bad in [
                "{" + U + "}",
                "urn:uuid:" + U,
                U[:-1],
                U + "0",
                "g" + U[1:],
                "a8098c1-af86e-11da-bd1a-00112444be1e",
                U.replace("-", "--", 1),
                "-" + U.replace("-", ""),
            ]
        ],
    ),
    *vectors(
        ["GET /files/{p:path}"],
        ("GET", "/files/a/b/c", Hit("GET /files/{p:path}", {"p": "a/b/c"})),
        ("GET", "/files/", Hit("GET /files/{p:path}", {"p": ""})),
        ("GET", "/files", NotFound(redirect="/files/")),
        ("GET", "/files/a%2Fb", Hit("GET /files/{p:path}", {"p": "a/b"})),
        ("GET", "/files/a%20b/c%3F", Hit("GET /files/{p:path}", {"p": "a b/c?"})),
        ("GET", "/files//x/", Hit("GET /files/{p:path}", {"p": "/x/"})),
        ("GET", "/files/ok/%C3%A9", Hit("GET /files/{p:path}", {"p": "ok/é"})),
        ("GET", "/files/%ff", NotFound()),
        ("GET", "/files/a/%ff/b", NotFound()),
        ("GET", "/filesx/a", NotFound()),
    ),
    *vectors(
        ["GET /{p:path}"],
        ("GET", "/", Hit("GET /{p:path}", {"p": ""})),
        ("GET", "/a/b", Hit("GET /{p:path}", {"p": "a/b"})),
        ("GET", "", NotFound()),
        ("GET", "a", NotFound()),
    ),
]

MIXED = [
    *vectors(
        ["GET /files/{name}.{ext}"],
        ("GET", "/files/report.pdf", Hit("GET /files/{name}.{ext}", {"name": "report", "ext": "pdf"})),
        ("GET", "/files/a.b.c", Hit("GET /files/{name}.{ext}", {"name": "a.b", "ext": "c"})),
        ("GET", "/files/a%2Eb", Hit("GET /files/{name}.{ext}", {"name": "a", "ext": "b"})),
        ("GET", "/files/a%2Fb.c", Hit("GET /files/{name}.{ext}", {"name": "a/b", "ext": "c"})),
        ("GET", "/files/a.", NotFound()),
        ("GET", "/files/.b", NotFound()),
        ("GET", "/files/ab", NotFound()),
        # A segment matched against literals and params may be 4096 bytes long (a documented limit).
        (
            "GET",
            "/files/" + "n" * 4092 + ".txt",
            Hit("GET /files/{name}.{ext}", {"name": "n" * 4092, "ext": "txt"}),
        ),
        ("GET", "/files/" + "n" * 4093 + ".txt", NotFound()),
    ),
    *vectors(
        ["GET /v{version:int}/x"],
        ("GET", "/v2/x", Hit("GET /v{version:int}/x", {"version": 2})),
        ("GET", "/v/x", NotFound()),
        ("GET", "/vv2/x", NotFound()),
        ("GET", "/V2/x", NotFound()),
        ("GET", "/v2.5/x", NotFound()),
    ),
    *vectors(
        ["GET /v{n:int}"],
        ("GET", "/v" + "7" * 4095, Hit("GET /v{n:int}", {"n": int("7" * 4095)})),
        ("GET", "/v" + "7" * 4096, NotFound()),
    ),
    *vectors(
        ["GET /d/{a:int}-{b}"],
        ("GET", "/d/12-ab-c", Hit("GET /d/{a:int}-{b}", {"a": 12, "b": "ab-c"})),
        ("GET", "/d/x-1", NotFound()),
        ("GET", "/d/12-", NotFound()),
    ),
    *vectors(
        ["GET /h/{a:int}1"],
        ("GET", "/h/1231", Hit("GET /h/{a:int}1", {"a": 123})),
        ("GET", "/h/11", Hit("GET /h/{a:int}1", {"a": 1})),
        ("GET", "/h/1", NotFound()),
    ),
    *vectors(
        ["GET /k/{x:float}.5"],
        ("GET", "/k/1.5.5", Hit("GET /k/{x:float}.5", {"x": 1.5})),
        ("GET", "/k/2.25.5", Hit("GET /k/{x:float}.5", {"x": 2.25})),
        ("GET", "/k/1.5", Hit("GET /k/{x:float}.5", {"x": 1.0})),
        ("GET", "/k/.5", NotFound()),
    ),
    *vectors(["GET /g/{x:float}x"], ("GET", "/g/1.5x", Hit("GET /g/{x:float}x", {"x": 1.5}))),
    *vectors(
        ["GET /i/{id:uuid}.json"],
        ("GET", f"/i/{U}.json", Hit("GET /i/{id:uuid}.json", {"id": UU})),
        ("GET", f"/i/{U}.xml", NotFound()),
    ),
    *vectors(
        ["GET /p/item-{id}"],
        ("GET", "/p/item-7", Hit("GET /p/item-{id}", {"id": "7"})),
        ("GET", "/p/item-", NotFound()),
        ("GET", "/p/item7", NotFound()),
    ),
    *vectors(
        ["GET /e/{a}.{b}.{c}"],
        ("GET", "/e/1.2.3.4", Hit("GET /e/{a}.{b}.{c}", {"a": "1.2", "b": "3", "c": "4"})),
        ("GET", "/e/1.2", NotFound()),
    ),
    *vectors(["GET /s/{x:int}.{y:int}"], ("GET", "/s/1.2", Hit("GET /s/{x:int}.{y:int}", {"x": 1, "y": 2}))),
]

PRIORITY = [
    *vectors(
        ["GET /p/me", "GET /p/{x}"],
        ("GET", "/p/me", Hit("GET /p/me")),
        ("GET", "/p/you", Hit("GET /p/{x}", {"x": "you"})),
    ),
    *vectors(["GET /p/a.json", "GET /p/{x}.json"], ("GET", "/p/a.json", Hit("GET /p/a.json"))),
    # Between two segments with params and literals, more literal text first.
    *vectors(
        ["GET /p/{name}.{ext}", "GET /p/{name}.json"],
        ("GET", "/p/a.json", Hit("GET /p/{name}.json", {"name": "a"})),
        ("GET", "/p/a.xml", Hit("GET /p/{name}.{ext}", {"name": "a", "ext": "xml"})),
    ),
    *vectors(
        ["GET /p/{x}.json", "GET /p/{x}"],
        ("GET", "/p/a.json", Hit("GET /p/{x}.json", {"x": "a"})),
        ("GET", "/p/a.xml", Hit("GET /p/{x}", {"x": "a.xml"})),
    ),
    *vectors(
        ["GET /p/{a}-{b}", "GET /p/{x:uuid}"],
        ("GET", "/p/" + U, Hit("GET /p/{a}-{b}", {"a": "a8098c1a-f86e-11da-bd1a", "b": "00112444be1e"})),
    ),
    *vectors(
        ["GET /p/{x:uuid}", "GET /p/{x:int}"],
        ("GET", "/p/" + DIGITS32, Hit("GET /p/{x:uuid}", {"x": uuid.UUID(DIGITS32)})),
        ("GET", "/p/12", Hit("GET /p/{x:int}", {"x": 12})),
    ),
    *vectors(
        ["GET /p/{x:int}", "GET /p/{x:float}"],
        ("GET", "/p/3", Hit("GET /p/{x:int}", {"x": 3})),
        ("GET", "/p/3.5", Hit("GET /p/{x:float}", {"x": 3.5})),
    ),
    *vectors(
        ["GET /p/{x:float}", "GET /p/{x}"],
        ("GET", "/p/3.5", Hit("GET /p/{x:float}", {"x": 3.5})),
        ("GET", "/p/abc", Hit("GET /p/{x}", {"x": "abc"})),
    ),
    *vectors(["GET /p/{x:uuid}", "GET /p/{x}"], ("GET", "/p/" + U, Hit("GET /p/{x:uuid}", {"x": UU}))),
    *vectors(
        ["GET /p/{x}", "GET /p/{x:path}"],
        ("GET", "/p/abc", Hit("GET /p/{x}", {"x": "abc"})),
        ("GET", "/p/a/b", Hit("GET /p/{x:path}", {"x": "a/b"})),
        ("GET", "/p/", Hit("GET /p/{x:path}", {"x": ""})),
    ),
    *vectors(["GET /p/{x:path}", "MOUNT /p"], ("GET", "/p/a", Hit("GET /p/{x:path}", {"x": "a"}))),
    *vectors(
        ["GET /p/{x}", "MOUNT /p"],
        ("GET", "/p/a", Hit("GET /p/{x}", {"x": "a"})),
        ("GET", "/p/a/b", Hit("MOUNT /p", tail="/a/b")),
    ),
    # Priority is decided segment by segment: a static first segment wins even if a catch-all follows.
    *vectors(["GET /a/{p:path}", "GET /{x}/b"], ("GET", "/a/b", Hit("GET /a/{p:path}", {"p": "b"}))),
    *vectors(["GET /a/{x}/c", "GET /{y}/b/c"], ("GET", "/a/b/c", Hit("GET /a/{x}/c", {"x": "b"}))),
    *vectors(["MOUNT /a", "GET /{p:path}"], ("GET", "/a/x", Hit("MOUNT /a", tail="/x"))),
]

BACKTRACKING = [
    *vectors(["GET /a/me/x", "GET /a/{id}/y"], ("GET", "/a/me/y", Hit("GET /a/{id}/y", {"id": "me"}))),
    *vectors(
        ["GET /a/me", "POST /a/{id}"],
        ("POST", "/a/me", Hit("POST /a/{id}", {"id": "me"})),
        ("GET", "/a/me", Hit("GET /a/me")),
        ("PUT", "/a/me", not_allowed("GET", "POST")),
    ),
    *vectors(
        ["GET /u/{id:uuid}/a", "GET /u/{n:int}/b"],
        ("GET", f"/u/{DIGITS32}/b", Hit("GET /u/{n:int}/b", {"n": int(DIGITS32)})),
        ("GET", f"/u/{DIGITS32}/a", Hit("GET /u/{id:uuid}/a", {"id": uuid.UUID(DIGITS32)})),
    ),
    *vectors(
        ["GET /f/{n:int}/a", "GET /f/{x:float}/b"], ("GET", "/f/3/b", Hit("GET /f/{x:float}/b", {"x": 3.0}))
    ),
    *vectors(
        ["GET /m/{name}.json/a", "GET /m/{slug}/b"],
        ("GET", "/m/x.json/b", Hit("GET /m/{slug}/b", {"slug": "x.json"})),
    ),
    *vectors(["GET /s/x", "GET /s/{p:path}"], ("GET", "/s/x/y", Hit("GET /s/{p:path}", {"p": "x/y"}))),
    *vectors(["GET /s/{p:path}", "MOUNT /s"], ("POST", "/s/x", Hit("MOUNT /s", tail="/x"))),
    *vectors(
        ["GET /u/{id:int}", "POST /u/{name}"],
        ("POST", "/u/5", Hit("POST /u/{name}", {"name": "5"})),
        ("GET", "/u/5", Hit("GET /u/{id:int}", {"id": 5})),
    ),
    # "*" on a higher-priority branch wins before a lower branch with the exact method.
    *vectors(["* /a/me", "GET /a/{id}"], ("GET", "/a/me", Hit("* /a/me"))),
]

METHODS = [
    *vectors(
        ["GET,POST /items"],
        ("GET", "/items", Hit("GET,POST /items")),
        ("POST", "/items", Hit("GET,POST /items")),
        ("PUT", "/items", not_allowed("GET", "POST")),
    ),
    *vectors(["* /any"], ("BREW", "/any", Hit("* /any")), ("GET", "/any", Hit("* /any"))),
    *vectors(["GET /x", "* /x"], ("GET", "/x", Hit("GET /x")), ("POST", "/x", Hit("* /x"))),
    *vectors(
        ["GET /x"],
        ("get", "/x", not_allowed("GET")),
        ("HEAD", "/x", not_allowed("GET")),
        ("M-SEARCH", "/x", not_allowed("GET")),
    ),
    *vectors(["get /x"], ("GET", "/x", not_allowed("get")), ("get", "/x", Hit("get /x"))),
    *vectors(
        ["GET /u/{id:int}", "POST /u/{name}", "PUT /u/me"],
        ("DELETE", "/u/me", not_allowed("POST", "PUT")),
        ("DELETE", "/u/5", not_allowed("GET", "POST")),
        ("PATCH", "/u/x", not_allowed("POST")),
        ("PUT", "/u/x", not_allowed("POST")),
    ),
    *vectors(["GET /a/b", "POST /a/{p:path}"], ("PUT", "/a/b", not_allowed("GET", "POST"))),
    # A mount takes every method, so a path under it is never a 405.
    *vectors(["GET /api/x", "MOUNT /api"], ("POST", "/api/x", Hit("MOUNT /api", tail="/x"))),
]

REDIRECTS = [
    *vectors(
        ["GET /items"],
        ("GET", "/items/", NotFound(redirect="/items")),
        ("POST", "/items/", NotFound(redirect="/items")),
        ("GET", "/items//", NotFound(redirect="/items")),  # Starlette strips every trailing '/'
        ("GET", "/y/", NotFound()),
        ("GET", "/", NotFound()),
    ),
    *vectors(["POST /items"], ("GET", "/items/", NotFound(redirect="/items"))),
    *vectors(["GET /items/"], ("GET", "/items", NotFound(redirect="/items/"))),
    *vectors(["GET //"], ("GET", "/", NotFound())),  # never for "/"
    *vectors(["GET /"], ("GET", "//", NotFound())),
    # No redirect on a 405, even where the other form would match.
    *vectors(["POST /items", "GET /items/"], ("PUT", "/items/", not_allowed("GET"))),
    *vectors(["GET /a/{p:path}"], ("GET", "/a", NotFound(redirect="/a/"))),
    *vectors(
        ["GET /users/{id:int}"],
        ("GET", "/users/5/", NotFound(redirect="/users/5")),
        ("GET", "/users/abc/", NotFound()),
    ),
    *vectors(["GET /x/"], ("GET", "/x%2F", NotFound())),
    *vectors(["GET /a b"], ("GET", "/a%20b/", NotFound(redirect="/a%20b"))),  # the raw path, not decoded
    *vectors(["GET /é"], ("GET", b"/\xc3\xa9/", NotFound(redirect="/é"))),
]

MOUNTS = [
    *vectors(
        ["MOUNT /static"],
        ("GET", "/static/", Hit("MOUNT /static", tail="/")),
        ("BREW", "/static/css/a.css", Hit("MOUNT /static", tail="/css/a.css")),
        ("GET", "/static/a%20b%2Fc", Hit("MOUNT /static", tail="/a%20b%2Fc")),
        ("GET", "/static//", Hit("MOUNT /static", tail="//")),
        ("GET", "/static/é", Hit("MOUNT /static", tail="/é")),
        ("GET", "/static/%ff", Hit("MOUNT /static", tail="/%ff")),
        ("GET", "/static", NotFound(redirect="/static/")),
        ("GET", "/staticx", NotFound()),
        ("GET", "/staticx/a", NotFound()),
    ),
    *vectors(
        ["MOUNT "],
        ("GET", "/", Hit("MOUNT ", tail="/")),
        ("DELETE", "/x/y", Hit("MOUNT ", tail="/x/y")),
        ("GET", "/a%2Fb", Hit("MOUNT ", tail="/a%2Fb")),
        ("GET", "x", NotFound()),
    ),
    *vectors(
        ["MOUNT /t/{tenant}"],
        ("GET", "/t/a%20b/x%2Fy", Hit("MOUNT /t/{tenant}", {"tenant": "a b"}, tail="/x%2Fy")),
        ("GET", "/t/a", NotFound(redirect="/t/a/")),
    ),
    *vectors(["MOUNT /v{n:int}"], ("GET", "/v3/x", Hit("MOUNT /v{n:int}", {"n": 3}, tail="/x"))),
    *vectors(
        ["GET /static/special", "MOUNT /static"],
        ("GET", "/static/special", Hit("GET /static/special")),
        ("POST", "/static/special", Hit("MOUNT /static", tail="/special")),
    ),
    *vectors(
        ["GET /static", "MOUNT /static"],
        ("GET", "/static", Hit("GET /static")),
        ("GET", "/static/", Hit("MOUNT /static", tail="/")),
    ),
    *vectors(
        ["MOUNT /a", "MOUNT /a/b"],
        ("GET", "/a/b/c", Hit("MOUNT /a/b", tail="/c")),
        ("GET", "/a/c", Hit("MOUNT /a", tail="/c")),
        ("GET", "/a/b", Hit("MOUNT /a", tail="/b")),
    ),
]

PERCENT = [
    *vectors(
        ["GET /users/me"],
        ("GET", "/users/%6De", Hit("GET /users/me")),
        ("GET", "/users/%6de", Hit("GET /users/me")),
        ("GET", "/users/m%65", Hit("GET /users/me")),
        ("GET", "/%75sers/me", Hit("GET /users/me")),
        ("GET", "/users%2Fme", NotFound()),
        ("GET", "/users/%6D%65%2F", NotFound()),
    ),
    *vectors(["GET /100%"], ("GET", "/100%", Hit("GET /100%")), ("GET", "/100%25", Hit("GET /100%"))),
    *vectors(
        ["GET /%41"],
        ("GET", "/%2541", Hit("GET /%41")),
        ("GET", "/%41", NotFound()),
        ("GET", "/A", NotFound()),
    ),
    *vectors(
        ["GET /q/{x}"],
        ("GET", "/q/%2", Hit("GET /q/{x}", {"x": "%2"})),
        ("GET", "/q/%%41", Hit("GET /q/{x}", {"x": "%A"})),
        ("GET", "/q/%41%", Hit("GET /q/{x}", {"x": "A%"})),
        ("GET", "/q/%zz", Hit("GET /q/{x}", {"x": "%zz"})),
        ("GET", "/q/%4", Hit("GET /q/{x}", {"x": "%4"})),
        ("GET", "/q/%", Hit("GET /q/{x}", {"x": "%"})),
        ("GET", "/q/%4g", Hit("GET /q/{x}", {"x": "%4g"})),
        ("GET", "/q/%C3%A9", Hit("GET /q/{x}", {"x": "é"})),
        ("GET", "/q/%F0%9F%98%80", Hit("GET /q/{x}", {"x": "😀"})),
        ("GET", "/q/%00", Hit("GET /q/{x}", {"x": "\x00"})),
        ("GET", "/q/+", Hit("GET /q/{x}", {"x": "+"})),
        ("GET", "/q/%C3", NotFound()),  # truncated sequence
        ("GET", "/q/%ff", NotFound()),
        ("GET", "/q/%C0%AF", NotFound()),  # overlong
        ("GET", "/q/%ED%A0%80", NotFound()),  # a surrogate
        ("GET", "/q/%F4%90%80%80", NotFound()),  # above U+10FFFF
        ("GET", b"/q/\xff", NotFound()),
        ("GET", b"/q/\xc3(", NotFound()),
    ),
    # A branch that fails on bad UTF-8 leaves the others to be tried.
    *vectors(["GET /q/{x}", "MOUNT /q"], ("GET", "/q/%ff", Hit("MOUNT /q", tail="/%ff"))),
    *vectors(["GET /q/{x}", "GET /q/{p:path}"], ("GET", "/q/%ff", NotFound())),
]

ALL = STATIC + CONVERTERS + MIXED + PRIORITY + BACKTRACKING + METHODS + REDIRECTS + MOUNTS + PERCENT


def parse_entry(entry: str) -> tuple[list[str] | None, str]:
    """(methods, pattern); methods is None for a mount."""
    methods, _, pattern = entry.partition(" ")
    return (None if methods == "MOUNT" else methods.split(",")), pattern


def build(entries: list[str] | tuple[str, ...]) -> Router[str]:
    router: Router[str] = Router()
    for entry in entries:
        methods, pattern = parse_entry(entry)
        if methods is None:
            router.mount(pattern, entry)
        else:
            router.add(methods[0] if len(methods) == 1 else methods, pattern, entry)
    return router


def check(router: Router[str], method: str, path: str | bytes, expect: Expect) -> None:
    found = router.match(method, path)
    looked_up = router.lookup(method, path)
    allowed = router.allowed_methods(path)
    assert type(allowed) is frozenset
    if isinstance(expect, Hit):
        methods, pattern = parse_entry(expect.entry)
        route_method = method if methods is not None and method in methods else "*"
        for m in (found, looked_up):
            assert isinstance(m, Match), m
            assert m.value == expect.entry
            assert typed(m.params) == typed(expect.params)
            assert m.route == pattern
            assert m.method == route_method
            assert m.tail == expect.tail
        assert route_method in allowed
    else:
        assert found is None, found
        assert isinstance(looked_up, Miss), looked_up
        assert type(looked_up.allowed_methods) is frozenset
        if isinstance(expect, NotFound):
            assert (looked_up.status_code, looked_up.redirect_path) == (404, expect.redirect)
            assert looked_up.allowed_methods == frozenset()
            assert allowed == frozenset()
        else:
            assert (looked_up.status_code, looked_up.redirect_path) == (405, None)
            assert looked_up.allowed_methods == expect.allowed
            assert allowed == expect.allowed


def vector_id(v: Vector) -> str:
    path = repr(v.path) if len(v.path) <= 40 else f"{v.path[:30]!r}...({len(v.path)} long)"
    return f"{'|'.join(v.entries)} {v.method} {path}"


CASES = [
    pytest.param(v, order, id=f"{vector_id(v)} [{order}]")
    for v in ALL
    for order in (["written", "reversed"] if len(v.entries) > 1 else ["written"])
]


@pytest.mark.parametrize(("vector", "order"), CASES)
def test_vector(vector: Vector, order: str) -> None:
    entries = vector.entries if order == "written" else vector.entries[::-1]
    router = build(entries)
    check(router, vector.method, vector.path, vector.expect)
    if isinstance(vector.path, str):
        check(router, vector.method, vector.path.encode(), vector.expect)


# The whole priority chain at one segment. DIGITS32 is accepted by every kind of route, so the
# winner is the highest-priority kind present, whatever the order of registration.
CHAIN: list[tuple[str, dict[str, Any], str | None]] = [
    ("GET /p/" + DIGITS32, {}, None),
    ("GET /p/1{rest}", {"rest": DIGITS32[1:]}, None),
    ("GET /p/{x:uuid}", {"x": uuid.UUID(DIGITS32)}, None),
    ("GET /p/{x:int}", {"x": int(DIGITS32)}, None),
    ("GET /p/{x:float}", {"x": float(DIGITS32)}, None),
    ("GET /p/{x}", {"x": DIGITS32}, None),
    ("GET /p/{x:path}", {"x": DIGITS32}, None),
    ("MOUNT /p", {}, "/" + DIGITS32),
]


def orders(entries: list[str]) -> list[list[str]]:
    shuffled = [list(entries) for _ in range(3)]
    for seed, order in enumerate(shuffled):
        random.Random(seed).shuffle(order)
    return [list(entries), entries[::-1], *shuffled]


@pytest.mark.parametrize("first", range(len(CHAIN)), ids=[c[0] for c in CHAIN])
def test_priority_chain(first: int) -> None:
    entries = [c[0] for c in CHAIN[first:]]
    entry, params, tail = CHAIN[first]
    for order in orders(entries):
        check(build(order), "GET", "/p/" + DIGITS32, Hit(entry, params, tail))


@pytest.mark.parametrize("first", range(len(CHAIN) - 1), ids=[c[0] for c in CHAIN[:-1]])
def test_priority_chain_skips_a_branch_without_the_method(first: int) -> None:
    # The best route exists only for POST: a GET falls through to the next kind.
    entries = [c[0] for c in CHAIN[first:]]
    entries[0] = entries[0].replace("GET ", "POST ", 1)
    entry, params, tail = CHAIN[first + 1]
    for order in orders(entries):
        router = build(order)
        check(router, "GET", "/p/" + DIGITS32, Hit(entry, params, tail))
        check(router, "POST", "/p/" + DIGITS32, Hit(entries[0], CHAIN[first][1]))
