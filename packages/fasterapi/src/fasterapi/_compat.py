"""Pydantic v2 helpers: field wrappers, type inspection and JSON Schema generation."""

from __future__ import annotations

import re
import types
import typing
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from dataclasses import is_dataclass
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeGuard, TypeVar, Union, cast, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PydanticSchemaGenerationError,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic._internal import _typing_extra
from pydantic._internal._mock_val_ser import MockValSer
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema as _PydanticGenerateJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic.version import VERSION as PYDANTIC_VERSION
from pydantic_core import CoreSchema, PydanticUndefined, Url, to_json

from fasterapi.openapi.constants import REF_TEMPLATE

try:  # the foundation layer provides UploadFile; tolerate its absence while it is being written
    from fasterapi.datastructures import UploadFile
except ImportError:  # pragma: no cover

    class UploadFile:  # type: ignore[no-redef]
        pass


_T = TypeVar("_T")

Undefined: Any = PydanticUndefined
RequiredParam: Any = PydanticUndefined
PYDANTIC_VERSION_MINOR_TUPLE = tuple(int(x) for x in PYDANTIC_VERSION.split(".")[:2])

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]
ModelNameMap = dict[type[BaseModel] | type[Enum], str]


class _UnsetType:
    """Marks a keyword argument that was not given (distinct from an explicit None)."""

    __slots__ = ()
    _instance: _UnsetType | None = None

    def __new__(cls) -> _UnsetType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "_Unset"

    def __bool__(self) -> bool:
        return False


_Unset: Any = _UnsetType()

_GENERIC_ALIAS_TYPES: tuple[Any, ...] = (
    typing._GenericAlias,  # type: ignore[attr-defined]
    types.GenericAlias,
    types.UnionType,
)

_SEQUENCE_TO_CONCRETE: dict[Any, type[Any]] = {
    Sequence: list,
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    deque: deque,
}
sequence_types: tuple[type[Any], ...] = tuple(_SEQUENCE_TO_CONCRETE)


def lenient_issubclass(
    cls: Any, class_or_tuple: type[_T] | tuple[type[_T], ...] | None
) -> TypeGuard[type[_T]]:
    try:
        return isinstance(cls, type) and issubclass(cls, class_or_tuple)  # type: ignore[arg-type]
    except TypeError:  # pragma: no cover
        if isinstance(cls, _GENERIC_ALIAS_TYPES):
            return False
        raise


def _is_union(origin: Any) -> bool:
    return origin is Union or origin is types.UnionType


def _plain_is_sequence(annotation: Any) -> bool:
    if lenient_issubclass(annotation, (str, bytes)):
        return False
    return lenient_issubclass(annotation, sequence_types)


def field_annotation_is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return field_annotation_is_sequence(get_args(annotation)[0])
    if _is_union(origin):
        return any(field_annotation_is_sequence(arg) for arg in get_args(annotation))
    return _plain_is_sequence(annotation) or _plain_is_sequence(origin)


def value_is_sequence(value: Any) -> bool:
    return isinstance(value, sequence_types) and not isinstance(value, (str, bytes))


def _plain_is_complex(annotation: Any) -> bool:
    return (
        lenient_issubclass(annotation, (BaseModel, Mapping, UploadFile))
        or _plain_is_sequence(annotation)
        or is_dataclass(annotation)
    )


def field_annotation_is_complex(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if _is_union(origin):
        return any(field_annotation_is_complex(arg) for arg in get_args(annotation))
    if origin is Annotated:
        return field_annotation_is_complex(get_args(annotation)[0])
    return (
        _plain_is_complex(annotation)
        or _plain_is_complex(origin)
        or hasattr(origin, "__pydantic_core_schema__")
        or hasattr(origin, "__get_pydantic_core_schema__")
    )


def field_annotation_is_scalar(annotation: Any) -> bool:
    return annotation is Ellipsis or not field_annotation_is_complex(annotation)


def field_annotation_is_scalar_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return field_annotation_is_scalar_sequence(get_args(annotation)[0])
    if _is_union(origin):
        found = False
        for arg in get_args(annotation):
            if field_annotation_is_scalar_sequence(arg):
                found = True
            elif not field_annotation_is_scalar(arg):
                return False
        return found
    return field_annotation_is_sequence(annotation) and all(
        field_annotation_is_scalar(sub) for sub in get_args(annotation)
    )


def _is_or_optional(annotation: Any, kind: type[Any]) -> bool:
    if lenient_issubclass(annotation, kind):
        return True
    if _is_union(get_origin(annotation)):
        return any(lenient_issubclass(arg, kind) for arg in get_args(annotation))
    return False


def is_bytes_or_nonable_bytes_annotation(annotation: Any) -> bool:
    return _is_or_optional(annotation, bytes)


def is_uploadfile_or_nonable_uploadfile_annotation(annotation: Any) -> bool:
    return _is_or_optional(annotation, UploadFile)


def _sequence_of(annotation: Any, kind: type[Any]) -> bool:
    if _is_union(get_origin(annotation)):
        return any(_sequence_of(arg, kind) for arg in get_args(annotation))
    return field_annotation_is_sequence(annotation) and all(
        _is_or_optional(sub, kind) for sub in get_args(annotation)
    )


def is_bytes_sequence_annotation(annotation: Any) -> bool:
    return _sequence_of(annotation, bytes)


def is_uploadfile_sequence_annotation(annotation: Any) -> bool:
    return _sequence_of(annotation, UploadFile)


class GenerateJsonSchema(_PydanticGenerateJsonSchema):
    """Pydantic's generator, with bytes described as OpenAPI 3.1 binary content."""

    def bytes_schema(self, schema: CoreSchema) -> JsonSchemaValue:
        json_schema: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
        mode = self._config.ser_json_bytes if self.mode == "serialization" else self._config.val_json_bytes
        if mode == "base64":
            json_schema["contentEncoding"] = "base64"
        self.update_with_validations(json_schema, schema, self.ValidationsMapping.bytes)
        return json_schema


_FIELD_ATTRIBUTES: dict[str, Any] = {
    "default": ...,
    "default_factory": None,
    "alias": None,
    "alias_priority": None,
    "validation_alias": None,
    "serialization_alias": None,
    "title": None,
    "field_title_generator": None,
    "description": None,
    "examples": None,
    "exclude": None,
    "exclude_if": None,
    "discriminator": None,
    "deprecated": None,
    "json_schema_extra": None,
    "frozen": None,
    "validate_default": None,
    "repr": True,
    "init": None,
    "init_var": None,
    "kw_only": None,
}


def _field_attributes(field_info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in _FIELD_ATTRIBUTES:
        value = getattr(field_info, attr, Undefined)
        if value is not Undefined:
            out[attr] = value
    return out


def _build_adapter(field_info: FieldInfo, config: ConfigDict | None) -> TypeAdapter[Any]:
    with warnings.catch_warnings():
        if PYDANTIC_VERSION_MINOR_TUPLE >= (2, 12):
            # Only pydantic >= 2.12 has this warning class.
            from pydantic.warnings import UnsupportedFieldAttributeWarning  # noqa: PLC0415

            warnings.simplefilter("ignore", category=UnsupportedFieldAttributeWarning)
        args = (field_info.annotation, *field_info.metadata, Field(**_field_attributes(field_info)))
        # Annotated[(annotation, *metadata)]: a type built at runtime, which mypy cannot follow.
        annotated: Any = Annotated[args]
        return TypeAdapter(annotated, config=config)


# The core schemas under which validating plain JSON data (exact dict with str keys, list, tuple,
# str, int, float, bool, None) of the right outer type gives it back as it is, and serializing
# writes it as the native writer does: `Any`, `dict[str, Any]`, `dict`, `list[Any]`, `list`; with
# the outer types each takes as it is. Anything more (a constraint, a custom serializer, another
# type) shows in the schema, and is not one of them.
_PLAIN_JSON_SCHEMAS: list[tuple[dict[str, Any], tuple[type, ...]]] = [
    ({"type": "any"}, ()),
    ({"type": "dict", "keys_schema": {"type": "str"}, "values_schema": {"type": "any"}}, (dict,)),
    ({"type": "dict", "keys_schema": {"type": "any"}, "values_schema": {"type": "any"}}, (dict,)),
    ({"type": "list", "items_schema": {"type": "any"}}, (list, tuple)),
]


def plain_json_types(field: ModelField) -> tuple[type, ...] | None:
    """When `field` takes plain JSON data as it is, both ways (see _PLAIN_JSON_SCHEMAS), the outer
    types it takes so (empty: any); else None. A response of such data can then be written without
    the validator and the serializer (`fasterapi.responses.plain_model_json_response`)."""
    if field.config:
        return None
    try:
        schema: dict[str, Any] = dict(field._type_adapter.core_schema)
    except Exception:  # a schema not built yet (forward references): the usual path
        return None
    if schema.get("metadata") == {}:  # (what a field's Annotated leaves when it adds nothing)
        del schema["metadata"]
    for plain, outer in _PLAIN_JSON_SCHEMAS:
        if schema == plain:
            return outer
    return None


def _keys(names: str) -> frozenset[str]:
    return frozenset(names.split())


# model_dump_fields: what may be in a plain model's core schema (anything else, a serializer of its
# own above all, makes the model not plain). Keys that only validation reads are allowed; config
# keys that serialization reads are allowed where they cannot change how these types are written
# (ser_json_inf_nan: the native writer leaves non-finite floats to pydantic-core).
_PLAIN_MODEL_KEYS = _keys(
    "type cls generic_origin schema custom_init root_model post_init config frozen strict"
    " revalidate_instances ref metadata"
)
_PLAIN_FIELDS_KEYS = _keys(
    "type fields model_name computed_fields strict extra_behavior from_attributes ref metadata"
)
_PLAIN_FIELD_KEYS = _keys("type schema metadata serialization_alias validation_alias frozen")
_PLAIN_CONFIG_KEYS = _keys(
    "title extra_fields_behavior strict from_attributes revalidate_instances str_strip_whitespace"
    " str_to_lower str_to_upper str_max_length str_min_length validate_by_alias validate_by_name"
    " populate_by_name loc_by_alias hide_input_in_errors validation_error_cause coerce_numbers_to_str"
    " regex_engine cache_strings allow_inf_nan ser_json_inf_nan ser_json_timedelta ser_json_temporal"
    " ser_json_bytes val_json_bytes serialize_by_alias validate_default typed_dict_total"
    " url_preserve_empty_path"
)
_PLAIN_DEFAULT_KEYS = _keys(
    "type schema default default_factory default_factory_takes_data on_error validate_default"
    " copy_default ref metadata"
)
_PLAIN_NULLABLE_KEYS = _keys("type schema strict ref metadata")
_PLAIN_LIST_KEYS = _keys("type items_schema min_length max_length fail_fast strict ref metadata")
# The scalar types and the keys each may have (validation's constraints), with the kind the native
# writer's dumps_model gives them (fasterapi_server._json's Encoder::Kind).
_KIND_INT, _KIND_STR, _KIND_FLOAT, _KIND_BOOL, _KIND_NONE, _KIND_LIST = 1, 2, 4, 8, 16, 32
_PLAIN_SCALARS: dict[str, tuple[frozenset[str], int]] = {
    "int": (_keys("type multiple_of le ge lt gt strict ref metadata"), _KIND_INT),
    "str": (
        _keys(
            "type pattern max_length min_length strip_whitespace to_lower to_upper regex_engine strict"
            " coerce_numbers_to_str ref metadata"
        ),
        _KIND_STR,
    ),
    "float": (_keys("type allow_inf_nan multiple_of le ge lt gt strict ref metadata"), _KIND_FLOAT),
    "bool": (_keys("type strict ref metadata"), _KIND_BOOL),
}


def _plain_value_kinds(schema: Mapping[str, Any], items: bool = False) -> int:
    """The kinds of value a field of this schema takes that dumps_model writes as pydantic-core
    would (0: none, the model is not plain)."""
    kinds = 0
    kind = schema.get("type")
    if kind == "default" and not items and schema.keys() <= _PLAIN_DEFAULT_KEYS:
        return _plain_value_kinds(schema["schema"])
    if kind == "nullable" and schema.keys() <= _PLAIN_NULLABLE_KEYS:
        kinds, schema = _KIND_NONE, schema["schema"]
        kind = schema.get("type")
    if kind in _PLAIN_SCALARS:
        keys, bit = _PLAIN_SCALARS[kind]
        return kinds | bit if schema.keys() <= keys else 0
    if kind == "list" and not items and schema.keys() <= _PLAIN_LIST_KEYS and "items_schema" in schema:
        of = _plain_value_kinds(schema["items_schema"], items=True)
        return kinds | _KIND_LIST | of << 8 if of else 0
    return 0


def model_dump_fields(field: ModelField, by_alias: bool) -> tuple[type, dict[str, tuple[bytes, int]]] | None:
    """When `field`'s serializer is a pydantic model's whose fields are all of str, int, float,
    bool, None or lists of them, with no serializer, computed field, extra or exclusion of its
    own: the model class and what fasterapi_server.json.dumps_model needs to write its instances
    as `field`'s to_json(by_alias=by_alias) does (each field's JSON key and kinds of value, by
    name). Else None. Read from the core schema, which is what the serializer is built from.
    Such a model does not revalidate its instances: `field`'s validator gives an instance of
    exactly the model back as it is (with no validator of the model's own around it, which would
    show in the schema), so the caller need not ask it (where it is pydantic-core's own: a
    validator wrapped by pydantic's plugins reports every call to them)."""
    if field.config or not isinstance(by_alias, bool):  # (None: the model's config decides)
        return None
    try:
        schema: Mapping[str, Any] = field._type_adapter.core_schema
    except Exception:  # a schema not built yet (forward references): the usual path
        return None
    if schema.get("type") != "model" or schema.get("root_model") or not schema.keys() <= _PLAIN_MODEL_KEYS:
        return None
    config = schema.get("config") or {}
    if (
        not config.keys() <= _PLAIN_CONFIG_KEYS
        or config.get("extra_fields_behavior") == "allow"
        or config.get("revalidate_instances", "never") == "always"
        or schema.get("revalidate_instances", "never") == "always"
    ):
        return None
    inner = schema.get("schema") or {}
    if (
        inner.get("type") != "model-fields"
        or not inner.keys() <= _PLAIN_FIELDS_KEYS
        or inner.get("computed_fields")
        or inner.get("extra_behavior") == "allow"
    ):
        return None
    fields: dict[str, tuple[bytes, int]] = {}
    for name, spec in inner["fields"].items():
        if spec.get("type") != "model-field" or not spec.keys() <= _PLAIN_FIELD_KEYS:
            return None
        kinds = _plain_value_kinds(spec["schema"])
        if not kinds:
            return None
        key = spec.get("serialization_alias", name) if by_alias else name
        fields[name] = (to_json(key) + b":", kinds)
    cls = schema.get("cls")
    return (cls, fields) if isinstance(cls, type) and fields else None


class ModelField:
    """One declared value (parameter, body, response) with its pydantic validator/serializer."""

    __slots__ = (
        "__weakref__",
        "_to_json",
        "_type_adapter",
        "_validate_python",
        "config",
        "field_info",
        "mode",
        "name",
    )

    def __init__(
        self,
        field_info: FieldInfo,
        name: str,
        mode: Literal["validation", "serialization"] = "validation",
        config: ConfigDict | None = None,
    ) -> None:
        self.field_info = field_info
        self.name = name
        self.mode = mode
        self.config = config
        adapter = self._type_adapter = _build_adapter(field_info, config)
        # The core validator and serializer themselves, when built (one Python call less per
        # use); a deferred one (forward references) goes through the adapter, which builds it.
        validator, serializer = adapter.validator, adapter.serializer
        self._validate_python: Callable[..., Any] = (
            adapter.validate_python if isinstance(validator, MockValSer) else validator.validate_python
        )
        self._to_json: Callable[..., bytes] | None = (
            None if isinstance(serializer, MockValSer) else serializer.to_json
        )

    @property
    def alias(self) -> str:
        a = self.field_info.alias
        return a if a is not None else self.name

    @property
    def validation_alias(self) -> str | None:
        va = self.field_info.validation_alias
        return va if isinstance(va, str) and va else None

    @property
    def serialization_alias(self) -> str | None:
        return self.field_info.serialization_alias or None

    @property
    def default(self) -> Any:
        return self.get_default()

    @property
    def type_(self) -> Any:
        return self.field_info.annotation

    @property
    def required(self) -> bool:
        return self.field_info.is_required()

    def get_default(self) -> Any:
        if self.field_info.is_required():
            return Undefined
        return self.field_info.get_default(call_default_factory=True)

    def validate(
        self,
        value: Any,
        values: dict[str, Any] | None = None,
        *,
        loc: tuple[int | str, ...] = (),
    ) -> tuple[Any, list[dict[str, Any]]]:
        try:
            return self._validate_python(value, from_attributes=True), []
        except ValidationError as exc:
            return None, prefix_errors(exc.errors(include_url=False), loc)

    def serialize(
        self,
        value: Any,
        *,
        mode: Literal["json", "python"] = "json",
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        by_alias: bool = True,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
    ) -> Any:
        return self._type_adapter.dump_python(
            value,
            mode=mode,
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )

    def serialize_json(
        self,
        value: Any,
        *,
        include: IncEx | None = None,
        exclude: IncEx | None = None,
        by_alias: bool = True,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
    ) -> bytes:
        to_json = self._to_json
        if to_json is not None:
            return to_json(
                value,
                include=include,
                exclude=exclude,
                by_alias=by_alias,
                exclude_unset=exclude_unset,
                exclude_defaults=exclude_defaults,
                exclude_none=exclude_none,
            )
        return self._type_adapter.dump_json(
            value,
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __repr__(self) -> str:
        return f"ModelField(name={self.name!r}, type={self.field_info.annotation!r}, mode={self.mode!r})"


def prefix_errors(errors: Sequence[Any], loc: tuple[int | str, ...]) -> list[dict[str, Any]]:
    if not loc:
        return [dict(err) for err in errors]
    return [{**err, "loc": loc + tuple(err.get("loc", ()))} for err in errors]


def get_missing_field_error(loc: tuple[int | str, ...]) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def _has_computed_fields(field: ModelField) -> bool:
    schema = cast(dict[str, Any], field._type_adapter.core_schema)
    return len(schema.get("schema", {}).get("computed_fields", [])) > 0


FieldMapping = dict[tuple[ModelField, Literal["validation", "serialization"]], JsonSchemaValue]


def get_schema_from_model_field(
    *,
    field: ModelField,
    model_name_map: ModelNameMap | None = None,
    field_mapping: FieldMapping,
    separate_input_output_schemas: bool = True,
) -> dict[str, Any]:
    override: Literal["validation"] | None = (
        None if (separate_input_output_schemas or _has_computed_fields(field)) else "validation"
    )
    if field.mode == "validation":
        alias = field.validation_alias or field.alias
    else:
        alias = field.serialization_alias or field.alias
    json_schema = field_mapping[(field, override or field.mode)]
    if "$ref" not in json_schema:
        json_schema["title"] = field.field_info.title or alias.title().replace("_", " ")
    return json_schema


def get_definitions(
    *,
    fields: Sequence[ModelField],
    model_name_map: ModelNameMap | None = None,
    separate_input_output_schemas: bool = True,
) -> tuple[FieldMapping, dict[str, dict[str, Any]]]:
    generator = GenerateJsonSchema(ref_template=REF_TEMPLATE)
    validation = get_flat_models_from_fields(
        [f for f in fields if f.mode == "validation"], known_models=set()
    )
    serialization = get_flat_models_from_fields(
        [f for f in fields if f.mode == "serialization"], known_models=set()
    )
    model_fields = [
        ModelField(field_info=FieldInfo(annotation=m), name=m.__name__, mode="validation") for m in validation
    ] + [
        ModelField(field_info=FieldInfo(annotation=m), name=m.__name__, mode="serialization")
        for m in serialization
    ]
    input_types = {f.field_info.annotation for f in fields}
    extra_fields = {f for f in model_fields if f.field_info.annotation not in input_types}
    inputs = [
        (
            f,
            f.mode if (separate_input_output_schemas or _has_computed_fields(f)) else "validation",
            f._type_adapter.core_schema,
        )
        for f in list(fields) + list(extra_fields)
    ]
    field_mapping, definitions = generator.generate_definitions(inputs=inputs)
    for item in cast(dict[str, dict[str, Any]], definitions).values():
        if "description" in item:
            item["description"] = cast(str, item["description"]).split("\f")[0]
    return field_mapping, cast(dict[str, dict[str, Any]], definitions)


def is_scalar_field(field: ModelField) -> bool:
    from fasterapi import params  # noqa: PLC0415  (params imports this module: a cycle at import time)

    return field_annotation_is_scalar(field.field_info.annotation) and not isinstance(
        field.field_info, params.Body
    )


def copy_field_info(*, field_info: FieldInfo, annotation: Any) -> FieldInfo:
    merged = type(field_info).from_annotation(annotation)
    new = copy(field_info)
    new.metadata = merged.metadata
    new.annotation = merged.annotation
    return new


def serialize_sequence_value(*, field: ModelField, value: Any) -> Sequence[Any]:
    annotation = field.field_info.annotation
    origin = get_origin(annotation) or annotation
    if _is_union(origin):
        for arg in get_args(annotation):
            if arg is type(None):
                continue
            origin = get_origin(arg) or arg
            break
    return _SEQUENCE_TO_CONCRETE[origin](value)  # type: ignore[no-any-return]


def create_body_model(*, fields: Sequence[ModelField], model_name: str) -> type[BaseModel]:
    definitions: dict[str, Any] = {f.name: (f.field_info.annotation, f.field_info) for f in fields}
    model: type[BaseModel] = create_model(model_name, **definitions)
    return model


def get_model_fields(model: type[BaseModel]) -> list[ModelField]:
    out: list[ModelField] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        config = (
            None
            if lenient_issubclass(annotation, (BaseModel, dict)) or is_dataclass(annotation)
            else (model.model_config)
        )
        out.append(ModelField(field_info=info, name=name, config=config))
    return out


@lru_cache
def get_cached_model_fields(model: type[BaseModel]) -> list[ModelField]:
    return get_model_fields(model)


TypeModelOrEnum = type[BaseModel] | type[Enum]
TypeModelSet = set[TypeModelOrEnum]


def normalize_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", name)


def get_model_name_map(unique_models: TypeModelSet) -> dict[TypeModelOrEnum, str]:
    by_name: dict[str, TypeModelOrEnum] = {}
    for model in unique_models:
        by_name[normalize_name(model.__name__)] = model
    return {v: k for k, v in by_name.items()}


def _flat_models_from_model(model: type[BaseModel], known: TypeModelSet) -> TypeModelSet:
    get_flat_models_from_fields(get_model_fields(model), known_models=known)
    return known


def _flat_models_from_annotation(annotation: Any, known: TypeModelSet) -> TypeModelSet:
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            if lenient_issubclass(arg, (BaseModel, Enum)):
                if arg not in known:
                    known.add(cast(TypeModelOrEnum, arg))
                    if lenient_issubclass(arg, BaseModel):
                        _flat_models_from_model(arg, known)
            else:
                _flat_models_from_annotation(arg, known)
    return known


def get_flat_models_from_fields(fields: Sequence[ModelField], known_models: TypeModelSet) -> TypeModelSet:
    for field in fields:
        annotation = field.field_info.annotation
        if lenient_issubclass(annotation, BaseModel):
            if annotation in known_models:
                continue
            known_models.add(annotation)
            _flat_models_from_model(annotation, known_models)
        elif lenient_issubclass(annotation, Enum):
            known_models.add(annotation)
        else:
            _flat_models_from_annotation(annotation, known_models)
    return known_models


def evaluate_forwardref(
    value: Any, globalns: dict[str, Any] | None = None, localns: dict[str, Any] | None = None
) -> Any:
    try_eval = getattr(_typing_extra, "try_eval_type", None)
    if try_eval is not None:
        return try_eval(value, globalns, localns)[0]
    return _typing_extra.eval_type_lenient(value, globalns, localns)  # pragma: no cover


__all__ = [
    "IncEx",
    "ModelField",
    "ModelNameMap",
    "PydanticSchemaGenerationError",
    "RequiredParam",
    "Undefined",
    "Url",
    "_Unset",
    "copy_field_info",
    "create_body_model",
    "get_cached_model_fields",
    "get_definitions",
    "get_flat_models_from_fields",
    "get_missing_field_error",
    "get_model_name_map",
    "get_schema_from_model_field",
    "is_scalar_field",
    "lenient_issubclass",
]


# ---- JSON-mode validation of a request body ---------------------------------------------------
#
# FastAPI parses a JSON body (`json.loads`) and validates the values in Python (lax) mode.
# pydantic's JSON mode (`validate_json`) skips the intermediate Python objects, but it differs
# from Python mode for many types (strict fields, bytes, dates, enums, unions, `Json[...]`,
# custom validators, which see other inputs...). It is used only for schemas made solely of the
# node types below, where a JSON value and its parsed Python value validate alike, and only
# when it succeeds: any error goes through the usual path, whose errors are FastAPI's.

_JSON_EQUIVALENT_LEAVES = frozenset({"str", "int", "float", "bool", "none", "any"})
_JSON_EQUIVALENT_CONFIG_BLOCKERS = ("strict", "coerce_numbers_to_str")
_LITERAL_TYPES = (str, int, bool, type(None))


def _config_blocks(config: Mapping[str, Any] | None) -> bool:
    return config is not None and any(config.get(key) for key in _JSON_EQUIVALENT_CONFIG_BLOCKERS)


def _json_equivalent_schema(
    schema: Mapping[str, Any], definitions: dict[str, Mapping[str, Any]], seen: set[str]
) -> bool:
    kind = schema.get("type")
    if schema.get("strict") or _config_blocks(schema.get("config")):
        return False
    if kind in _JSON_EQUIVALENT_LEAVES:
        return not schema.get("coerce_numbers_to_str")
    if kind == "definitions":
        for definition in schema["definitions"]:
            definitions[definition["ref"]] = definition
        return _json_equivalent_schema(schema["schema"], definitions, seen)
    if kind == "definition-ref":
        ref = schema["schema_ref"]
        if ref in seen:  # being checked (recursion) or checked already
            return True
        target = definitions.get(ref)
        return target is not None and _json_equivalent_schema(target, definitions, seen)
    ref = schema.get("ref")
    if isinstance(ref, str):
        if ref in seen:
            return True
        seen.add(ref)
    if kind == "model":
        if schema.get("custom_init"):
            return False
        return _json_equivalent_schema(schema["schema"], definitions, seen)
    if kind in ("model-fields", "typed-dict"):
        extras = schema.get("extras_schema")
        if extras is not None and not _json_equivalent_schema(extras, definitions, seen):
            return False
        if schema.get("extras_keys_schema") is not None:
            return False
        return all(
            _json_equivalent_schema(field["schema"], definitions, seen) for field in schema["fields"].values()
        )
    if kind in ("nullable", "default"):
        return _json_equivalent_schema(schema["schema"], definitions, seen)
    if kind == "list":
        items = schema.get("items_schema")
        return items is None or _json_equivalent_schema(items, definitions, seen)
    if kind == "dict":
        keys, values = schema.get("keys_schema"), schema.get("values_schema")
        return (keys is None or _json_equivalent_schema(keys, definitions, seen)) and (
            values is None or _json_equivalent_schema(values, definitions, seen)
        )
    if kind == "literal":
        return all(type(v) in _LITERAL_TYPES for v in schema["expected"])
    return False


_JSON_BODY_TOPS = frozenset({"model", "typed-dict", "list", "dict"})


def json_body_validator(field: ModelField) -> Callable[[bytes], Any] | None:
    """`validate_json` of `field` when, for every JSON body that it accepts, it gives what
    validating the parsed body in Python mode gives (None otherwise: the usual path only).

    The top of the schema must be a model, a typed dict, a list or a dict: a JSON `null` is
    then refused (the usual path gives it the field's default or a missing-field error)."""
    adapter = field._type_adapter
    validator = adapter.validator
    if isinstance(validator, MockValSer) or _config_blocks(field.config):
        return None
    schema: Mapping[str, Any] = adapter.core_schema
    definitions: dict[str, Mapping[str, Any]] = {}
    top = schema
    while top.get("type") in ("definitions", "definition-ref"):
        if top["type"] == "definitions":
            for definition in top["definitions"]:
                definitions[definition["ref"]] = definition
            top = top["schema"]
        else:
            target = definitions.get(top["schema_ref"])
            if target is None:
                return None
            top = target
    if top.get("type") not in _JSON_BODY_TOPS:
        return None
    if not _json_equivalent_schema(schema, {}, set()):
        return None
    return validator.validate_json
