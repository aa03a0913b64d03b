"""A response model of plain fields written by the server's native writer (fasterapi's own).

`model_dump_fields` reads a response model's core schema; where every field is str, int, float,
bool, None or a list of them, with nothing of the model's own in the way, an instance of exactly
that model is written by `fasterapi_server.json.dumps_model` instead of pydantic-core's serializer.
The bytes must be the serializer's, always; anything the writer does not know it gives up on (None),
and the serializer writes it. Needs fasterapi-server (the writer is the server's).
"""

import math
import random
from typing import Annotated, Any, Literal

import pytest
from fasterapi import FastAPI
from fasterapi._compat import ModelField, model_dump_fields
from fasterapi.testclient import TestClient
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    computed_field,
    field_serializer,
    model_serializer,
    model_validator,
)
from pydantic.fields import FieldInfo

dumps_model = pytest.importorskip("fasterapi_server.json").dumps_model


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


class Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True, str_strip_whitespace=True, extra="forbid")
    user_id: int = Field(serialization_alias="userId", validation_alias=AliasChoices("user_id", "uid"))
    display: str = Field(alias="displayName", max_length=50)
    score: float | None = Field(default=None, ge=0)
    flags: list[bool | None] = Field(default_factory=list)
    odd: Annotated[str, Field(serialization_alias='a "quoted"\nkey ü')] = "x"


class Everything(BaseModel):
    i: int
    s: str
    f: float
    b: bool
    n: int | None
    li: list[int]
    lf: list[float | None]
    ls: list[str]


class WithValidationConfig(BaseModel):
    # (config that only validation reads, or that does not change these types' text: plain)
    model_config = ConfigDict(
        ser_json_bytes="base64", use_enum_values=True, validate_default=True, strict=True
    )
    a: int


def field_of(model: type, by_alias: bool = True) -> tuple[type, dict[str, tuple[bytes, int]]] | None:
    field = ModelField(FieldInfo(annotation=model), "response", mode="serialization")
    return model_dump_fields(field, by_alias)


def check_same(model: type[BaseModel], value: BaseModel, by_alias: bool = True) -> bytes:
    """dumps_model writes the serializer's bytes for `value` (it did not give up)."""
    spec = field_of(model, by_alias)
    assert spec is not None
    assert spec[0] is model
    written = dumps_model(value, spec[1])
    assert written is not None, value
    assert written == model.__pydantic_serializer__.to_json(value, by_alias=by_alias)
    return written


@pytest.mark.parametrize("model", [User, Item, Aliased, Everything, WithValidationConfig])
def test_plain_models_are_found_plain(model: type[BaseModel]) -> None:
    spec = field_of(model)
    assert spec is not None
    assert spec[0] is model
    assert list(spec[1]) == list(model.model_fields)


def test_the_keys_are_the_serializers() -> None:
    value = Aliased(uid=3, displayName="  me ", score=1.5, flags=[True, None])
    assert check_same(Aliased, value) == (
        b'{"userId":3,"displayName":"me","score":1.5,"flags":[true,null],"a \\"quoted\\"\\nkey \xc3\xbc":"x"}'
    )
    assert check_same(Aliased, value, by_alias=False).startswith(b'{"user_id":3,"display":"me"')
    check_same(User, User(id=-(2**80), name='ü\u2028\x00\x1f"\\/', email=""))
    check_same(Item, Item(name="n", price=-0.0, tags=[]))


def _random_value(rng: random.Random, kind: str) -> Any:
    if kind == "i":
        return rng.choice([0, -1, 2**31, -(2**63), 2**64, 10**30, rng.randint(-(10**9), 10**9)])
    if kind == "f":
        exp = rng.randint(-3, 300)
        return rng.choice([0.0, -0.0, 1e16, 0.1, 1.7976931348623157e308, rng.uniform(-1, 1) * 10.0**exp])
    if kind == "s":
        alphabet = 'aZ09 "\\/\n\t\x00\x7f\u00e9\u2028\u4e2d\U0001f600'
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    return rng.choice([True, False])


def _tiny(x: Any) -> bool:
    return isinstance(x, float) and x != 0 and abs(x) < 1e-4


def test_random_values_are_written_as_the_serializer_writes_them() -> None:
    spec = field_of(Everything)
    assert spec is not None
    rng = random.Random(1234)
    given_up = 0
    for _ in range(2000):
        value = Everything(
            i=_random_value(rng, "i"),
            s=_random_value(rng, "s"),
            f=_random_value(rng, "f"),
            b=_random_value(rng, "b"),
            n=rng.choice([None, _random_value(rng, "i")]),
            li=[_random_value(rng, "i") for _ in range(rng.randint(0, 3))],
            lf=[rng.choice([None, _random_value(rng, "f")]) for _ in range(rng.randint(0, 3))],
            ls=[_random_value(rng, "s") for _ in range(rng.randint(0, 3))],
        )
        written = dumps_model(value, spec[1])
        if written is None:  # only for a float below 1e-4, which pydantic-core writes otherwise
            assert _tiny(value.f) or any(_tiny(x) for x in value.lf), value
            given_up += 1
        else:
            assert written == Everything.__pydantic_serializer__.to_json(value, by_alias=True)
    assert given_up < 200


class WithComputed(BaseModel):
    a: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def b(self) -> int:
        return self.a


class WithFieldSerializer(BaseModel):
    a: int

    @field_serializer("a")
    def _a(self, v: int) -> str:
        return str(v)


class WithModelSerializer(BaseModel):
    a: int

    @model_serializer
    def _all(self) -> dict[str, Any]:
        return {"x": self.a}


class WithExtra(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


class WithExcluded(BaseModel):
    a: int
    secret: str = Field(default="", exclude=True)


class Nested(BaseModel):
    user: User


class WithOtherTypes(BaseModel):
    when: Literal["a", "b"]


class WithTuple(BaseModel):
    t: tuple[int, ...]


class WithSerializationConfig(BaseModel):
    # (a config key that serialization reads and model_dump_fields does not know: not plain)
    model_config = ConfigDict(polymorphic_serialization=True)  # type: ignore[typeddict-unknown-key, unused-ignore]
    a: int


class Root(RootModel[list[int]]):
    pass


class WithRevalidation(BaseModel):
    # (its instances are validated again: the route must ask the validator)
    model_config = ConfigDict(revalidate_instances="always")
    a: int


class WithModelValidator(BaseModel):
    a: int

    @model_validator(mode="after")
    def _check(self) -> "WithModelValidator":
        return self


@pytest.mark.parametrize(
    "model",
    [
        WithComputed,
        WithFieldSerializer,
        WithModelSerializer,
        WithExtra,
        WithExcluded,
        Nested,
        WithOtherTypes,
        WithTuple,
        WithSerializationConfig,
        Root,
        WithRevalidation,
        WithModelValidator,
    ],
)
def test_models_with_anything_of_their_own_are_not_plain(model: type[BaseModel]) -> None:
    assert field_of(model) is None


def test_the_writer_gives_up_on_what_it_does_not_write_as_the_serializer() -> None:
    spec = field_of(Everything)
    assert spec is not None
    fields = spec[1]
    good = {"i": 1, "s": "s", "f": 1.5, "b": True, "n": None, "li": [1], "lf": [None], "ls": ["x"]}
    assert dumps_model(Everything(**good), fields) is not None

    def built(**changes: Any) -> BaseModel:
        return Everything.model_construct(**{**good, **changes})  # (not validated: any type)

    for changes in [
        {"i": True},  # bool for an int: the serializer warns
        {"i": 1.0},
        {"s": b"x"},
        {"f": 1},  # int for a float
        {"b": 1},
        {"n": "1"},
        {"li": (1,)},  # a tuple for a list
        {"li": [1, "2"]},
        {"ls": [None]},
        {"f": 1e-7},  # a tiny float, written otherwise by pydantic-core
        {"f": math.inf},
        {"lf": [math.nan]},
        {"s": "\ud800"},  # a lone surrogate
    ]:
        assert dumps_model(built(**changes), fields) is None, changes

    extra = Everything(**good)
    object.__setattr__(extra, "__dict__", {**extra.__dict__, "other": 1})  # a key that is not a field
    assert dumps_model(extra, fields) is None
    missing = Everything(**good)
    del missing.__dict__["n"]
    assert dumps_model(missing, fields) is None
    # A spec that is not what model_dump_fields makes: given up on, never a crash.
    value = Everything(**good)
    for broken in [
        {**fields, "i": (b'"i":',)},
        {**fields, "i": ('"i":', 1)},
        {**fields, "i": (b'"i":', -1)},
        {**fields, "i": (b'"i":', 2**70)},
        {**fields, "i": [b'"i":', 1]},
    ]:
        assert dumps_model(value, broken) is None
    assert dumps_model(object(), fields) is None


def test_the_dict_order_is_the_serializers() -> None:
    value = User(id=1, name="n", email="e")
    object.__setattr__(value, "__dict__", {"email": "e", "id": 1, "active": False, "name": "n"})
    check_same(User, value)


def test_routes_write_plain_models_natively_with_the_serializers_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fasterapi import responses

    assert responses.native_model_dumper() is not None
    real = responses._native_dumps_model
    assert real is not None
    written: list[Any] = []

    def counting(value: Any, fields: Any) -> bytes | None:
        written.append(value)
        return real(value, fields)

    monkeypatch.setattr(responses, "_native_dumps_model", counting)

    class Admin(User):
        level: int = 1

    app = FastAPI()

    @app.get("/user", response_model=User)
    async def user() -> Any:
        return User(id=1, name="n", email="e")

    @app.get("/admin", response_model=User)
    async def admin() -> Any:
        return Admin(id=2, name="a", email="e")  # a subclass: the serializer writes User's fields

    @app.get("/dict", response_model=User)
    async def as_dict() -> Any:
        return {"id": "3", "name": "d", "email": "e"}  # validated into a User first

    @app.get("/aliased", response_model=Aliased)
    async def aliased() -> Any:
        return Aliased(user_id=4, display="x")

    @app.get("/names", response_model=Aliased, response_model_by_alias=False)
    async def names() -> Any:
        return Aliased(user_id=5, display="y")

    @app.get("/unset", response_model=User, response_model_exclude_unset=True)
    async def unset() -> Any:
        return User(id=6, name="u", email="e")

    @app.get("/wrong", response_model=User)
    async def wrong() -> Any:
        return User.model_construct(id="7", name="w", email="e", active=True)

    client = TestClient(app, raise_server_exceptions=False)

    def check(url: str, expected: bytes, tries: int) -> None:
        written.clear()
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.content == expected, url
        assert len(written) == tries, url  # (the writer tried once, or never)

    check("/user", b'{"id":1,"name":"n","email":"e","active":true}', 1)
    check("/admin", b'{"id":2,"name":"a","email":"e","active":true}', 0)
    check("/dict", b'{"id":3,"name":"d","email":"e","active":true}', 1)
    aliased_bytes = (
        b'{"userId":4,"displayName":"x","score":null,"flags":[],"a \\"quoted\\"\\nkey \xc3\xbc":"x"}'
    )
    check("/aliased", aliased_bytes, 1)
    check("/names", b'{"user_id":5,"display":"y","score":null,"flags":[],"odd":"x"}', 1)
    check("/unset", b'{"id":6,"name":"u","email":"e"}', 0)  # (an option: the serializer)
    # A value of the wrong type (not validated, as model_construct makes it): given up on, and the
    # serializer writes it as ever (with its warning).
    with pytest.warns(UserWarning, match="serializ"):
        check("/wrong", b'{"id":"7","name":"w","email":"e","active":true}', 1)


def test_with_pydantics_plugins_the_validator_still_sees_every_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loader = pytest.importorskip("pydantic.plugin._loader")
    if not hasattr(loader, "_plugins"):
        pytest.skip("this pydantic keeps its plugins otherwise")
    seen: list[str] = []

    class Handler:
        def on_enter(self, input: Any, **kwargs: Any) -> None:
            seen.append(type(input).__name__)

    class Plugin:
        def new_schema_validator(self, *args: Any, **kwargs: Any) -> tuple[Handler, Handler, Handler]:
            return Handler(), Handler(), Handler()

    monkeypatch.setattr(loader, "_plugins", {"watching": Plugin()})
    app = FastAPI()  # (the route's validators are built now, with the plugin)

    @app.get("/user", response_model=User)
    async def user() -> Any:
        return User(id=1, name="n", email="e")

    response = TestClient(app).get("/user")
    assert response.content == b'{"id":1,"name":"n","email":"e","active":true}'
    assert "User" in seen  # the response validator was asked about the returned instance


def test_a_server_without_dumps_model_leaves_every_model_to_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    from fasterapi import responses

    native = pytest.importorskip("fasterapi_server.json")
    monkeypatch.delattr(native, "dumps_model")  # (as an older fasterapi-server)
    for name in ("_native_dumps", "_native_dumps_plain", "_native_dumps_model"):
        monkeypatch.setattr(responses, name, None)
    assert responses.native_model_dumper() is None
    app = FastAPI()

    @app.get("/user", response_model=User)
    async def user() -> Any:
        return User(id=1, name="n", email="e")

    @app.get("/plain")
    async def plain() -> dict[str, Any]:
        return {"a": 1}

    client = TestClient(app)
    assert client.get("/user").content == b'{"id":1,"name":"n","email":"e","active":true}'
    assert client.get("/plain").content == b'{"a":1}'
    assert responses._native_dumps_plain is not None  # (the plain data's writer is still used)


def test_by_alias_none_is_left_to_the_serializer() -> None:
    field = ModelField(FieldInfo(annotation=Aliased), "response", mode="serialization")
    assert model_dump_fields(field, None) is None  # type: ignore[arg-type]  # (the model's config decides)
