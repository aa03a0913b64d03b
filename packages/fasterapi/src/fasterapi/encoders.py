"""`jsonable_encoder`: turn any object into data that `json.dumps` accepts."""

from __future__ import annotations

import dataclasses
import datetime
import importlib
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from pathlib import Path, PurePath
from re import Pattern
from types import GeneratorType
from typing import Any, TypedDict, cast
from uuid import UUID

from pydantic import BaseModel
from pydantic.networks import AnyUrl, NameEmail
from pydantic.types import SecretBytes, SecretStr
from pydantic_core import PydanticUndefinedType, Url

from fasterapi._compat import IncEx
from fasterapi.exceptions import PydanticV1NotSupportedError
from fasterapi.utils import is_pydantic_v1_instance

try:
    from pydantic.color import Color
except ImportError:  # pragma: no cover

    class Color:  # type: ignore[no-redef]
        pass


# pydantic-extra-types is optional (and not installed where the types are checked): imported by
# name, with a class of its own standing in when it is absent.
ExtraColor: type[Any]
try:
    ExtraColor = importlib.import_module("pydantic_extra_types.color").Color
except (ImportError, AttributeError):  # pragma: no cover
    ExtraColor = type("ExtraColor", (), {})


def isoformat(o: datetime.date | datetime.time) -> str:
    return o.isoformat()


def decimal_encoder(dec_value: Decimal) -> int | float:
    """A Decimal without fractional exponent becomes an int, any other a float."""
    exponent = dec_value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(dec_value)
    return float(dec_value)


ENCODERS_BY_TYPE: dict[type[Any], Callable[[Any], Any]] = {
    bytes: lambda o: o.decode(),
    Color: str,
    ExtraColor: str,
    datetime.date: isoformat,
    datetime.datetime: isoformat,
    datetime.time: isoformat,
    datetime.timedelta: lambda td: td.total_seconds(),
    Decimal: decimal_encoder,
    Enum: lambda o: o.value,
    frozenset: list,
    deque: list,
    GeneratorType: list,
    IPv4Address: str,
    IPv4Interface: str,
    IPv4Network: str,
    IPv6Address: str,
    IPv6Interface: str,
    IPv6Network: str,
    NameEmail: str,
    Path: str,
    Pattern: lambda o: o.pattern,
    SecretBytes: str,
    SecretStr: str,
    set: list,
    UUID: str,
    Url: str,
    AnyUrl: str,
}


def generate_encoders_by_class_tuples(
    type_encoder_map: dict[Any, Callable[[Any], Any]],
) -> dict[Callable[[Any], Any], tuple[Any, ...]]:
    grouped: dict[Callable[[Any], Any], tuple[Any, ...]] = {}
    for type_, encoder in type_encoder_map.items():
        grouped[encoder] = (*grouped.get(encoder, ()), type_)
    return grouped


encoders_by_class_tuples = generate_encoders_by_class_tuples(ENCODERS_BY_TYPE)

_SCALARS = (str, int, float, type(None))
_SEQUENCES = (list, set, frozenset, GeneratorType, tuple, deque)
# exact types that are returned as they are (the common case, checked with one dict lookup)
_PASSTHROUGH: frozenset[type[Any]] = frozenset({str, int, float, bool, type(None)})
_PLAIN_CONTAINERS: frozenset[type[Any]] = frozenset({dict, list, tuple})


class _EncodeOptions(TypedDict):
    """The options passed down to the keys and values of a dict."""

    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    custom_encoder: dict[Any, Callable[[Any], Any]] | None
    sqlalchemy_safe: bool


def _encode_plain(obj: Any, sqlalchemy_safe: bool) -> Any:
    """Encoder for the default options: no include/exclude/custom encoders, by_alias=True."""
    t = type(obj)
    if t in _PASSTHROUGH:
        return obj
    passthrough = _PASSTHROUGH
    if t is dict:
        out = {}
        for key, value in obj.items():
            name = key
            if type(key) is not str:
                if sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"):
                    continue
                name = _encode_plain(key, sqlalchemy_safe)
            elif sqlalchemy_safe and key[:1] == "_" and key.startswith("_sa"):
                continue
            out[name] = value if type(value) in passthrough else _encode_plain(value, sqlalchemy_safe)
        return out
    if t is list or t is tuple:
        return [item if type(item) in passthrough else _encode_plain(item, sqlalchemy_safe) for item in obj]
    return jsonable_encoder(obj, sqlalchemy_safe=sqlalchemy_safe)


def jsonable_encoder(  # noqa: PLR0917  (FastAPI's public signature: the options may be positional)
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Convert `obj` into JSON-compatible data (dicts, lists, str, int, float, bool, None)."""
    if (
        type(obj) in _PLAIN_CONTAINERS
        and include is None
        and exclude is None
        and by_alias
        and not (exclude_unset or exclude_defaults or exclude_none or custom_encoder)
    ):
        return _encode_plain(obj, sqlalchemy_safe)  # what the branches below do for these options
    if custom_encoder:
        encoder = custom_encoder.get(type(obj))
        if encoder is not None:
            return encoder(obj)
        for encoder_type, encoder_instance in custom_encoder.items():
            if isinstance(obj, encoder_type):
                return encoder_instance(obj)
    if include is not None and not isinstance(include, (set, dict)):
        include = cast(IncEx, set(include))
    if exclude is not None and not isinstance(exclude, (set, dict)):
        exclude = cast(IncEx, set(exclude))
    if isinstance(obj, BaseModel):
        data = obj.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_none=exclude_none,
            exclude_defaults=exclude_defaults,
        )
        return jsonable_encoder(
            data,
            exclude_none=exclude_none,
            exclude_defaults=exclude_defaults,
            sqlalchemy_safe=sqlalchemy_safe,
        )
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable_encoder(
            dataclasses.asdict(obj),
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            custom_encoder=custom_encoder,
            sqlalchemy_safe=sqlalchemy_safe,
        )
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, PydanticUndefinedType):
        return None
    simple = not (custom_encoder or exclude_unset or exclude_defaults or not by_alias)
    if isinstance(obj, dict):
        allowed: set[Any] | None = None
        if include is not None or exclude is not None:
            allowed = set(obj.keys())
            if include is not None:
                allowed &= set(include)
            if exclude is not None:
                allowed -= set(exclude)
        encoded: dict[Any, Any] = {}
        for key, value in obj.items():
            if sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"):
                continue
            if value is None and exclude_none:
                continue
            if allowed is not None and key not in allowed:
                continue
            if simple and not exclude_none:
                encoded[_encode_plain(key, sqlalchemy_safe)] = _encode_plain(value, sqlalchemy_safe)
                continue
            options: _EncodeOptions = {
                "by_alias": by_alias,
                "exclude_unset": exclude_unset,
                "exclude_defaults": exclude_defaults,
                "exclude_none": exclude_none,
                "custom_encoder": custom_encoder,
                "sqlalchemy_safe": sqlalchemy_safe,
            }
            encoded[jsonable_encoder(key, **options)] = jsonable_encoder(value, **options)
        return encoded
    if isinstance(obj, _SEQUENCES):
        if simple and include is None and exclude is None and not exclude_none:
            return [_encode_plain(item, sqlalchemy_safe) for item in obj]
        return [
            jsonable_encoder(
                item,
                include=include,
                exclude=exclude,
                by_alias=by_alias,
                exclude_unset=exclude_unset,
                exclude_defaults=exclude_defaults,
                exclude_none=exclude_none,
                custom_encoder=custom_encoder,
                sqlalchemy_safe=sqlalchemy_safe,
            )
            for item in obj
        ]
    encoder_fn = ENCODERS_BY_TYPE.get(type(obj))
    if encoder_fn is not None:
        return encoder_fn(obj)
    for encoder_fn, classes in encoders_by_class_tuples.items():
        if isinstance(obj, classes):
            return encoder_fn(obj)
    if is_pydantic_v1_instance(obj):
        raise PydanticV1NotSupportedError(
            f"pydantic.v1 models are no longer supported by FastAPI. Please update the model {obj!r}."
        )
    try:
        data = dict(obj)
    except Exception as e:
        errors: list[Exception] = [e]
        try:
            data = vars(obj)
        except Exception as e2:
            errors.append(e2)
            raise ValueError(errors) from e2
    return jsonable_encoder(
        data,
        include=include,
        exclude=exclude,
        by_alias=by_alias,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
        custom_encoder=custom_encoder,
        sqlalchemy_safe=sqlalchemy_safe,
    )
