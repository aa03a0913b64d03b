"""Small helpers shared by routing and OpenAPI generation."""

from __future__ import annotations

import re
import sys
from types import UnionType
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from fasterapi._compat import ModelField, PydanticSchemaGenerationError, Undefined
from fasterapi.datastructures import DefaultPlaceholder, DefaultType
from fasterapi.exceptions import FastAPIError, PydanticV1NotSupportedError

if TYPE_CHECKING:  # pragma: no cover
    from fasterapi.routing import APIRoute

_NON_BODY_STATUS = {204, 205, 304}
_RANGE_KEYS = {"default", "1XX", "2XX", "3XX", "4XX", "5XX"}


def is_body_allowed_for_status_code(status_code: int | str | None) -> bool:
    if status_code is None:
        return True
    if status_code in _RANGE_KEYS:
        return True
    code = int(status_code)
    return not (code < 200 or code in _NON_BODY_STATUS)


def get_path_param_names(path: str) -> set[str]:
    return set(re.findall("{(.*?)}", path))


_invalid_args_message = (
    "Invalid args for response field! Hint: "
    "check that {type_} is a valid Pydantic field type. "
    "If you are using a return type annotation that is not a valid Pydantic "
    "field (e.g. Union[Response, dict, None]) you can disable generating the "
    "response model from the type annotation with the path operation decorator "
    "parameter response_model=None. Read more: "
    "https://fastapi.tiangolo.com/tutorial/response-model/"
)


def _pydantic_v1_base() -> type | None:
    """pydantic.v1's BaseModel if something imported it (else no v1 model can exist)."""
    module = sys.modules.get("pydantic.v1.main")
    return getattr(module, "BaseModel", None) if module is not None else None


def is_pydantic_v1_instance(obj: Any) -> bool:
    base = _pydantic_v1_base()
    return base is not None and isinstance(obj, base)


def _is_pydantic_v1(annotation: Any) -> bool:
    """A pydantic.v1 model class, or a union or sequence of them."""
    base = _pydantic_v1_base()
    if base is None:
        return False
    if isinstance(annotation, type) and issubclass(annotation, base):
        return True
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType:
        return any(isinstance(arg, type) and issubclass(arg, base) for arg in get_args(annotation))
    if origin is not None and isinstance(origin, type) and issubclass(origin, (list, set, frozenset, tuple)):
        return any(_is_pydantic_v1(arg) for arg in get_args(annotation))
    if origin is not None and origin.__module__ == "collections.abc":
        return any(_is_pydantic_v1(arg) for arg in get_args(annotation))
    return False


def create_model_field(  # noqa: PLR0917  (FastAPI's signature, called positionally)
    name: str,
    type_: Any,
    default: Any | None = Undefined,
    field_info: FieldInfo | None = None,
    alias: str | None = None,
    mode: Literal["validation", "serialization"] = "validation",
) -> ModelField:
    if _is_pydantic_v1(type_):
        raise PydanticV1NotSupportedError(
            "pydantic.v1 models are no longer supported by FastAPI. "
            f"Please update the response model {type_!r}."
        )
    field_info = field_info or FieldInfo(annotation=type_, default=default, alias=alias)
    try:
        return ModelField(mode=mode, name=name, field_info=field_info)
    except PydanticSchemaGenerationError:
        raise FastAPIError(_invalid_args_message.format(type_=type_)) from None


def generate_unique_id(route: APIRoute) -> str:
    operation_id = re.sub(r"\W", "_", f"{route.name}{route.path_format}")
    assert route.methods
    return f"{operation_id}_{next(iter(route.methods)).lower()}"


def deep_dict_update(main_dict: dict[Any, Any], update_dict: dict[Any, Any]) -> None:
    for key, value in update_dict.items():
        current = main_dict.get(key) if key in main_dict else None
        if key in main_dict and isinstance(current, dict) and isinstance(value, dict):
            deep_dict_update(current, value)
        elif key in main_dict and isinstance(current, list) and isinstance(value, list):
            main_dict[key] = current + value
        else:
            main_dict[key] = value


def get_value_or_default(
    first_item: DefaultPlaceholder | DefaultType, *extra_items: DefaultPlaceholder | DefaultType
) -> DefaultPlaceholder | DefaultType:
    """The first item that is not a `DefaultPlaceholder`, else the first item."""
    for item in (first_item, *extra_items):
        if not isinstance(item, DefaultPlaceholder):
            return item
    return first_item
