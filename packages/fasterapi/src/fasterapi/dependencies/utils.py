"""Dependency analysis (signature -> Dependant tree) and the per-route compiled call plan."""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from copy import copy, deepcopy
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, ForwardRef, Literal, NoReturn, Union, cast, get_args, get_origin

from pydantic import AliasChoices, AliasPath, BaseModel, Json, ValidationError
from pydantic.fields import FieldInfo
from typing_inspection.typing_objects import is_typealiastype

from fasterapi import params
from fasterapi._compat import (
    ModelField,
    RequiredParam,
    Undefined,
    copy_field_info,
    create_body_model,
    evaluate_forwardref,
    field_annotation_is_scalar,
    field_annotation_is_scalar_sequence,
    field_annotation_is_sequence,
    get_cached_model_fields,
    get_missing_field_error,
    is_bytes_or_nonable_bytes_annotation,
    is_bytes_sequence_annotation,
    is_scalar_field,
    is_uploadfile_or_nonable_uploadfile_annotation,
    is_uploadfile_sequence_annotation,
    lenient_issubclass,
    prefix_errors,
    sequence_types,
    serialize_sequence_value,
    value_is_sequence,
)
from fasterapi.background import BackgroundTasks
from fasterapi.concurrency import contextmanager_in_threadpool, run_in_threadpool
from fasterapi.datastructures import FormData, UploadFile
from fasterapi.dependencies.models import (
    Dependant,
    DependencyCacheKey,
    _get_cache_key,
    _get_computed_scope,
    _get_oauth_scopes,
    _is_async_gen_callable,
    _is_coroutine_callable,
    _is_gen_callable,
)
from fasterapi.exceptions import DependencyScopeError
from fasterapi.requests import HTTPConnection, Request
from fasterapi.responses import Response
from fasterapi.security.oauth2 import SecurityScopes
from fasterapi.utils import create_model_field as _create_model_field
from fasterapi.websockets import WebSocket

multipart_not_installed_error = (
    'Form data requires "python-multipart" to be installed. \n'
    'You can install "python-multipart" with: \n\n'
    "pip install python-multipart\n"
)
multipart_incorrect_install_error = (
    'Form data requires "python-multipart" to be installed. '
    'It seems you installed "multipart" instead. \n'
    'You can remove "multipart" with: \n\n'
    "pip uninstall multipart\n\n"
    'And then install "python-multipart" with: \n\n'
    "pip install python-multipart\n"
)


def ensure_multipart_is_installed() -> None:
    # python-multipart is an optional extra (forms only): imported when a form is declared.
    try:
        from python_multipart import __version__  # noqa: PLC0415

        assert __version__ > "0.0.12"
    except (ImportError, AssertionError):
        try:
            from multipart import __version__ as other_version  # type: ignore[import-untyped]  # noqa: PLC0415

            assert other_version
            try:
                from multipart.multipart import parse_options_header  # type: ignore[import-untyped]  # noqa: PLC0415

                assert parse_options_header
            except ImportError:
                raise RuntimeError(multipart_incorrect_install_error) from None
        except ImportError:
            raise RuntimeError(multipart_not_installed_error) from None


def get_path_param_names(path: str) -> set[str]:
    return set(re.findall("{(.*?)}", path))


# --------------------------------------------------------------------------------------------
# Signature analysis
# --------------------------------------------------------------------------------------------


def _get_signature(call: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(call, eval_str=True)
    except NameError:
        if sys.version_info >= (3, 14):  # pragma: no cover
            from annotationlib import Format  # noqa: PLC0415  (Python >= 3.14 only)

            return inspect.signature(call, annotation_format=Format.FORWARDREF)
        return inspect.signature(call)


def get_typed_annotation(annotation: Any, globalns: dict[str, Any]) -> Any:
    if isinstance(annotation, str):
        annotation = evaluate_forwardref(ForwardRef(annotation), globalns, globalns)
        if annotation is type(None):
            return None
    return annotation


def get_typed_signature(call: Callable[..., Any]) -> inspect.Signature:
    signature = _get_signature(call)
    globalns = getattr(inspect.unwrap(call), "__globals__", {})
    return inspect.Signature(
        [
            inspect.Parameter(
                name=p.name,
                kind=p.kind,
                default=p.default,
                annotation=get_typed_annotation(p.annotation, globalns),
            )
            for p in signature.parameters.values()
        ]
    )


def get_typed_return_annotation(call: Callable[..., Any]) -> Any:
    signature = _get_signature(call)
    annotation = signature.return_annotation
    if annotation is inspect.Signature.empty:
        return None
    return get_typed_annotation(annotation, getattr(inspect.unwrap(call), "__globals__", {}))


_STREAM_ORIGINS = {AsyncIterable, AsyncIterator, AsyncGenerator, Iterable, Iterator, Generator}


def get_stream_item_type(annotation: Any) -> Any | None:
    origin = get_origin(annotation)
    if origin is not None and origin in _STREAM_ORIGINS:
        args = get_args(annotation)
        return args[0] if args else Any
    return None


def create_model_field(  # noqa: PLR0917  (FastAPI's signature: the arguments may be positional)
    name: str,
    type_: Any,
    default: Any | None = Undefined,
    field_info: FieldInfo | None = None,
    alias: str | None = None,
    mode: Literal["validation", "serialization"] = "validation",
) -> ModelField:
    return _create_model_field(
        name=name, type_=type_, default=default, field_info=field_info, alias=alias, mode=mode
    )


def get_parameterless_sub_dependant(*, depends: params.Depends, path: str) -> Dependant:
    assert callable(depends.dependency), "A parameter-less dependency must have a callable dependency"
    own_oauth_scopes: list[str] = []
    if isinstance(depends, params.Security) and depends.scopes:
        own_oauth_scopes.extend(depends.scopes)
    return get_dependant(
        path=path, call=depends.dependency, scope=depends.scope, own_oauth_scopes=own_oauth_scopes
    )


_SPECIAL_TYPES: tuple[type[Any], ...] = (
    Request,
    WebSocket,
    HTTPConnection,
    Response,
    BackgroundTasks,
    SecurityScopes,
)


def get_dependant(
    *,
    path: str,
    call: Callable[..., Any],
    name: str | None = None,
    own_oauth_scopes: list[str] | None = None,
    parent_oauth_scopes: list[str] | None = None,
    use_cache: bool = True,
    scope: Literal["function", "request"] | None = None,
) -> Dependant:
    dependant = Dependant(
        call=call,
        name=name,
        path=path,
        use_cache=use_cache,
        scope=scope,
        own_oauth_scopes=own_oauth_scopes,
        parent_oauth_scopes=parent_oauth_scopes,
    )
    current_scopes = (parent_oauth_scopes or []) + (own_oauth_scopes or [])
    path_param_names = get_path_param_names(path)
    for param_name, param in get_typed_signature(call).parameters.items():
        is_path_param = param_name in path_param_names
        details = analyze_param(
            param_name=param_name,
            annotation=param.annotation,
            value=param.default,
            is_path_param=is_path_param,
        )
        if details.depends is not None:
            assert details.depends.dependency
            if (
                (_is_gen_callable(dependant.call) or _is_async_gen_callable(dependant.call))
                and _get_computed_scope(dependant=dependant) == "request"
                and details.depends.scope == "function"
            ):
                call_name = getattr(dependant.call, "__name__", "<unnamed_callable>")
                raise DependencyScopeError(
                    f'The dependency "{call_name}" has a scope of '
                    '"request", it cannot depend on dependencies with scope "function".'
                )
            sub_scopes: list[str] = []
            if isinstance(details.depends, params.Security) and details.depends.scopes:
                sub_scopes = list(details.depends.scopes)
            dependant.dependencies.append(
                get_dependant(
                    path=path,
                    call=details.depends.dependency,
                    name=param_name,
                    own_oauth_scopes=sub_scopes,
                    parent_oauth_scopes=current_scopes,
                    use_cache=details.depends.use_cache,
                    scope=details.depends.scope,
                )
            )
            continue
        if add_non_field_param_to_dependency(
            param_name=param_name, type_annotation=details.type_annotation, dependant=dependant
        ):
            assert details.field is None, f"Cannot specify multiple FastAPI annotations for {param_name!r}"
            continue
        assert details.field is not None
        if isinstance(details.field.field_info, params.Body):
            dependant.body_params.append(details.field)
        else:
            add_param_to_fields(field=details.field, dependant=dependant)
    return dependant


def add_non_field_param_to_dependency(
    *, param_name: str, type_annotation: Any, dependant: Dependant
) -> bool | None:
    if lenient_issubclass(type_annotation, Request):
        dependant.request_param_name = param_name
    elif lenient_issubclass(type_annotation, WebSocket):
        dependant.websocket_param_name = param_name
    elif lenient_issubclass(type_annotation, HTTPConnection):
        dependant.http_connection_param_name = param_name
    elif lenient_issubclass(type_annotation, Response):
        dependant.response_param_name = param_name
    elif lenient_issubclass(type_annotation, BackgroundTasks):
        dependant.background_tasks_param_name = param_name
    elif lenient_issubclass(type_annotation, SecurityScopes):
        dependant.security_scopes_param_name = param_name
    else:
        return None
    return True


@dataclass
class ParamDetails:
    type_annotation: Any
    depends: params.Depends | None
    field: ModelField | None


def analyze_param(*, param_name: str, annotation: Any, value: Any, is_path_param: bool) -> ParamDetails:
    field_info: FieldInfo | None = None
    depends: params.Depends | None = None
    type_annotation: Any = Any
    use_annotation: Any = Any
    if is_typealiastype(annotation):
        annotation = annotation.__value__
    if annotation is not inspect.Signature.empty:
        use_annotation = annotation
        type_annotation = annotation
    if get_origin(use_annotation) is Annotated:
        annotated_args = get_args(annotation)
        type_annotation = annotated_args[0]
        specific = [
            arg
            for arg in annotated_args[1:]
            if isinstance(arg, (params.Param, params._BodyBase, params.Depends))
        ]
        marker = specific[-1] if specific else None
        if isinstance(marker, FieldInfo):
            field_info = copy_field_info(field_info=marker, annotation=use_annotation)
            assert field_info.default in (Undefined, RequiredParam), (
                f"`{field_info.__class__.__name__}` default value cannot be set in"
                f" `Annotated` for {param_name!r}. Set the default value with `=` instead."
            )
            if value is not inspect.Signature.empty:
                assert not is_path_param, "Path parameters cannot have default values"
                field_info.default = value
            else:
                field_info.default = RequiredParam
        elif isinstance(marker, params.Depends):
            depends = marker
    if isinstance(value, params.Depends):
        assert depends is None, (
            f"Cannot specify `Depends` in `Annotated` and default value together for {param_name!r}"
        )
        assert field_info is None, (
            "Cannot specify a FastAPI annotation in `Annotated` and `Depends` as a"
            f" default value together for {param_name!r}"
        )
        depends = value
    elif isinstance(value, FieldInfo):
        assert field_info is None, (
            f"Cannot specify FastAPI annotations in `Annotated` and default value together for {param_name!r}"
        )
        field_info = value
        field_info.annotation = type_annotation

    if depends is not None and depends.dependency is None:
        depends = dataclasses.replace(copy(depends), dependency=type_annotation)

    if depends is None and lenient_issubclass(type_annotation, _SPECIAL_TYPES):
        assert field_info is None, f"Cannot specify FastAPI annotation for type {type_annotation!r}"
    elif field_info is None and depends is None:
        default_value = value if value is not inspect.Signature.empty else RequiredParam
        if is_path_param:
            field_info = params.Path(annotation=use_annotation)
        elif is_uploadfile_or_nonable_uploadfile_annotation(
            type_annotation
        ) or is_uploadfile_sequence_annotation(type_annotation):
            field_info = params.File(annotation=use_annotation, default=default_value)
        elif not field_annotation_is_scalar(annotation=type_annotation):
            field_info = params.Body(annotation=use_annotation, default=default_value)
        else:
            field_info = params.Query(annotation=use_annotation, default=default_value)

    field = None
    if field_info is not None:
        if is_path_param:
            assert isinstance(field_info, params.Path), (
                f"Cannot use `{field_info.__class__.__name__}` for path param {param_name!r}"
            )
        elif isinstance(field_info, params.Param) and getattr(field_info, "in_", None) is None:
            field_info.in_ = params.ParamTypes.query
        if isinstance(field_info, params.Form):
            ensure_multipart_is_installed()
        if not field_info.alias and getattr(field_info, "convert_underscores", None):
            alias = param_name.replace("_", "-")
        else:
            alias = field_info.alias or param_name
        field_info.alias = alias
        field = create_model_field(
            name=param_name,
            type_=use_annotation,
            default=field_info.default,
            alias=alias,
            field_info=field_info,
        )
        if is_path_param:
            assert is_scalar_field(field=field), "Path params must be of one of the supported types"
        elif isinstance(field_info, params.Query):
            assert (
                is_scalar_field(field)
                or field_annotation_is_scalar_sequence(field.field_info.annotation)
                or lenient_issubclass(field.field_info.annotation, BaseModel)
            ), f"Query parameter {param_name!r} must be one of the supported types"
    return ParamDetails(type_annotation=type_annotation, depends=depends, field=field)


def add_param_to_fields(*, field: ModelField, dependant: Dependant) -> None:
    location = getattr(field.field_info, "in_", None)
    if location == params.ParamTypes.path:
        dependant.path_params.append(field)
    elif location == params.ParamTypes.query:
        dependant.query_params.append(field)
    elif location == params.ParamTypes.header:
        dependant.header_params.append(field)
    else:
        assert location == params.ParamTypes.cookie, (
            f"non-body parameters must be in path, query, header or cookie: {field.name}"
        )
        dependant.cookie_params.append(field)


def get_validation_alias(field: ModelField) -> str:
    return field.validation_alias or field.alias


def _get_flat_body_params(dependant: Dependant) -> list[ModelField]:
    out: list[ModelField] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        out.extend(current.body_params)
        stack.extend(reversed(current.dependencies))
    return out


def _get_flat_fields_from_params(fields: list[ModelField]) -> list[ModelField]:
    if len(fields) == 1 and lenient_issubclass(fields[0].field_info.annotation, BaseModel):
        return get_cached_model_fields(fields[0].field_info.annotation)
    return fields


def get_flat_params(dependant: Dependant) -> list[ModelField]:
    path: list[ModelField] = []
    query: list[ModelField] = []
    header: list[ModelField] = []
    cookie: list[ModelField] = []
    visited: list[DependencyCacheKey] = []
    scopes_cache: dict[int, bool] = {}
    stack = [dependant]
    while stack:
        current = stack.pop()
        key = _get_cache_key(dependant=current, uses_scopes_cache=scopes_cache)
        if key in visited:
            continue
        visited.append(key)
        path.extend(current.path_params)
        query.extend(current.query_params)
        header.extend(current.header_params)
        cookie.extend(current.cookie_params)
        stack.extend(reversed(current.dependencies))
    return (
        _get_flat_fields_from_params(path)
        + _get_flat_fields_from_params(query)
        + _get_flat_fields_from_params(header)
        + _get_flat_fields_from_params(cookie)
    )


def is_union_of_base_models(field_type: Any) -> bool:
    origin = get_origin(field_type)
    if origin is not Union and origin is not __import__("types").UnionType:
        return False
    return all(lenient_issubclass(arg, BaseModel) for arg in get_args(field_type))


def _should_embed_body_fields(fields: list[ModelField]) -> bool:
    if not fields:
        return False
    if len({f.name for f in fields}) > 1:
        return True
    first = fields[0]
    if getattr(first.field_info, "embed", None):
        return True
    return (
        isinstance(first.field_info, params.Form)
        and not lenient_issubclass(first.field_info.annotation, BaseModel)
        and not is_union_of_base_models(first.field_info.annotation)
    )


def _get_body_field(
    *, body_params: list[ModelField], name: str, embed_body_fields: bool
) -> ModelField | None:
    """The one field that describes the whole request body (for OpenAPI and form detection)."""
    if not body_params:
        return None
    if not embed_body_fields:
        return body_params[0]
    body_model = create_body_model(fields=body_params, model_name="Body_" + name)
    required = any(f.field_info.is_required() for f in body_params)
    kwargs: dict[str, Any] = {"annotation": body_model, "alias": "body"}
    if not required:
        kwargs["default"] = None
    field_info_cls: type[params.Body]
    if any(isinstance(f.field_info, params.File) for f in body_params):
        field_info_cls = params.File
    elif any(isinstance(f.field_info, params.Form) for f in body_params):
        field_info_cls = params.Form
    else:
        field_info_cls = params.Body
        media_types = [f.field_info.media_type for f in body_params if isinstance(f.field_info, params.Body)]
        if len(set(media_types)) == 1:
            kwargs["media_type"] = media_types[0]
    return create_model_field(
        name="body", type_=body_model, alias="body", field_info=field_info_cls(**kwargs)
    )


# --------------------------------------------------------------------------------------------
# The compiled plan
# --------------------------------------------------------------------------------------------

_MISSING = object()


def _is_json_field(field: ModelField) -> bool:
    return any(type(item) is Json for item in field.field_info.metadata)


class _FieldReader:
    """Reads and validates one parameter; everything that does not depend on the request is
    decided here, once."""

    __slots__ = (
        "alias",
        "const_default",
        "field",
        "loc",
        "lookup",
        "multi",
        "name",
        "required",
        "seq",
        "validate",
        "vdefault",
    )

    def __init__(self, field: ModelField, loc_prefix: str | None, lookup: str | None = None) -> None:
        self.field = field
        self.name = field.name
        self.alias = get_validation_alias(field)
        self.lookup = lookup or self.alias
        self.seq = field_annotation_is_sequence(field.field_info.annotation)
        self.multi = self.seq and not _is_json_field(field)
        self.loc: tuple[str, ...] = (loc_prefix, self.alias) if loc_prefix else ()
        self.required = field.field_info.is_required()
        self.validate = field._validate_python
        self.vdefault = bool(field.field_info.validate_default)
        # An immutable default is used as it is (deepcopy would give the same object back).
        info = field.field_info
        self.const_default = (
            not self.required and info.default_factory is None and type(info.default) in _IMMUTABLE_DEFAULTS
        )

    def raw(self, source: Any, multi_source: bool, form: bool = False, key: str | None = None) -> Any:
        k = key or self.lookup
        value = source.getlist(k) if self.multi and multi_source else source.get(k)
        if (
            value is None
            or (form and value == "" and isinstance(value, str))
            or (self.seq and len(value) == 0)
        ):
            return None
        return value

    def read(self, source: Any, multi_source: bool, errors: list[dict[str, Any]]) -> Any:
        """`check(raw(source, multi_source), self.loc, errors)`, in one call."""
        value = source.getlist(self.lookup) if self.multi and multi_source else source.get(self.lookup)
        if value is not None and not (self.seq and len(value) == 0):
            try:
                return self.validate(value, from_attributes=True)
            except ValidationError as exc:
                errors.extend(prefix_errors(exc.errors(include_url=False), self.loc))
                return _MISSING
        return self.check(None, self.loc, errors)

    def check(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        if value is None:
            if self.required:
                errors.append(get_missing_field_error(loc))
                return _MISSING
            if self.const_default:
                value = self.field.field_info.default
            else:
                value = deepcopy(self.field.get_default())
            if not self.vdefault:
                return value
        try:
            return self.validate(value, from_attributes=True)
        except ValidationError as exc:
            errors.extend(prefix_errors(exc.errors(include_url=False), loc))
            return _MISSING


_IMMUTABLE_DEFAULTS: frozenset[type[Any]] = frozenset({int, float, str, bool, bytes, type(None)})
_FROM_PATH, _FROM_QUERY, _FROM_HEADER, _FROM_COOKIE = 0, 1, 2, 3
_SOURCES = {"path": _FROM_PATH, "query": _FROM_QUERY, "header": _FROM_HEADER, "cookie": _FROM_COOKIE}


class _ParamGroup:
    """All the path, query, header or cookie parameters of one dependant."""

    __slots__ = (
        "is_header",
        "location",
        "model_field",
        "model_readers",
        "multi_source",
        "readers",
        "source",
    )

    def __init__(self, location: str, fields: list[ModelField]) -> None:
        self.location = location
        self.source = _SOURCES.get(location, _FROM_COOKIE)
        self.is_header = location == "header"
        self.multi_source = location in ("query", "header")
        self.model_field: ModelField | None = None
        self.model_readers: list[tuple[_FieldReader, str]] = []
        self.readers: list[_FieldReader] = []
        if len(fields) == 1 and lenient_issubclass(fields[0].field_info.annotation, BaseModel):
            first = fields[0]
            self.model_field = first
            default_convert = getattr(first.field_info, "convert_underscores", True)
            for sub in get_cached_model_fields(cast(type[BaseModel], first.field_info.annotation)):
                alias = get_validation_alias(sub)
                lookup = alias
                if (
                    self.is_header
                    and getattr(sub.field_info, "convert_underscores", default_convert)
                    and alias == sub.name
                ):
                    lookup = alias.replace("_", "-")
                self.model_readers.append((_FieldReader(sub, None, lookup), alias))
        else:
            self.readers = [_FieldReader(f, location) for f in fields]

    def read(self, source: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        if self.model_field is None:
            multi = self.multi_source
            for reader in self.readers:
                value = reader.read(source, multi, errors)
                if value is not _MISSING:
                    values[reader.name] = value
            return
        data: dict[str, Any] = {}
        processed: set[str] = set()
        for reader, alias in self.model_readers:
            value = reader.raw(source, self.multi_source)
            if value is not None:
                data[alias] = value
            processed.add(reader.lookup)
            processed.add(alias)
        multi = self.multi_source
        # keys(): Headers iterates through it, one call more per request.
        for key in source.keys():  # noqa: SIM118
            if key not in processed:
                if multi:
                    got = source.getlist(key)
                    data[key] = got[0] if len(got) == 1 else got
                else:
                    data[key] = source.get(key)
        field = self.model_field
        try:
            values[field.name] = field._validate_python(data, from_attributes=True)
        except ValidationError as exc:
            values[field.name] = None
            errors.extend(prefix_errors(exc.errors(include_url=False), (self.location,)))


class _FormFieldReader:
    __slots__ = (
        "aliases",
        "bytes_one",
        "bytes_seq",
        "has_alias_path",
        "infer_false",
        "is_file",
        "plain",
        "reader",
    )

    def __init__(self, field: ModelField) -> None:
        self.reader = _FieldReader(field, None)
        aliases = [get_validation_alias(field)]
        va = field.field_info.validation_alias
        self.has_alias_path = isinstance(va, AliasPath) or (
            isinstance(va, AliasChoices) and any(isinstance(c, AliasPath) for c in va.choices)
        )
        if not self.has_alias_path:
            if isinstance(va, AliasChoices):
                aliases = list(cast(list[str], va.choices))
            config = field.config or {}
            if config.get("validate_by_name", config.get("populate_by_name", False)):
                if config.get("validate_by_alias") is False:
                    aliases = [field.name]
                elif field.name not in aliases:
                    aliases.append(field.name)
        self.aliases = aliases
        annotation = field.field_info.annotation
        self.infer_false = not self.has_alias_path and annotation in (bool, bool | None)
        self.is_file = isinstance(field.field_info, params.File)
        self.bytes_one = self.is_file and is_bytes_or_nonable_bytes_annotation(annotation)
        self.bytes_seq = self.is_file and is_bytes_sequence_annotation(annotation)
        self.plain = field.config is None


async def _extract_form(readers: list[_FormFieldReader], form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for fr in readers:
        reader = fr.reader
        aliases = fr.aliases
        infer_false = fr.infer_false and not any(a in form for a in aliases)
        if fr.plain or infer_false:
            selected = aliases[0]
            for a in aliases:
                if reader.raw(form, True, True, a) is not None:
                    selected = a
                    break
            aliases = [selected]
        for alias in aliases:
            seen.add(alias)
            value: Any = False if infer_false else reader.raw(form, True, True, alias)
            if fr.bytes_one and isinstance(value, UploadFile):
                value = await value.read()
            elif fr.bytes_seq and value_is_sequence(value):
                assert isinstance(value, sequence_types)
                items: list[bytes | str] = []
                for sub in value:
                    items.append(await sub.read() if isinstance(sub, UploadFile) else sub)
                value = serialize_sequence_value(field=reader.field, value=items)
            if fr.plain:
                name = reader.alias
                seen.add(name)
            else:
                name = alias
            if value is not None:
                values[name] = value
    for key in form:
        if key not in seen:
            got = form.getlist(key)
            values[key] = got[0] if len(got) == 1 else got
    return values


class JsonValidatedBody:
    """A JSON request body already validated, in JSON mode, against the plan's one body field
    (see `APIRoute._make_handler`): the value the body reader gives as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _BodyReader:
    __slots__ = ("fields", "form_readers", "readers", "single")

    def __init__(self, body_params: list[ModelField], embed: bool) -> None:
        self.fields = body_params
        self.single = len(body_params) == 1 and not embed
        first = body_params[0]
        form_fields = body_params
        if self.single and lenient_issubclass(first.field_info.annotation, BaseModel):
            form_fields = get_cached_model_fields(first.field_info.annotation)
        self.form_readers = [_FormFieldReader(f) for f in form_fields]
        self.readers = [_FieldReader(f, "body") for f in body_params]

    async def read(self, body: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        if type(body) is JsonValidatedBody:
            values[self.readers[0].name] = body.value
            return
        if isinstance(body, FormData):
            body = await _extract_form(self.form_readers, body)
        if self.single:
            reader = self.readers[0]
            value = reader.check(body, ("body",), errors)
            values[reader.name] = None if value is _MISSING else value
            return
        for reader in self.readers:
            value = None
            if body is not None and not isinstance(body, bytes):
                try:
                    value = body.get(reader.alias)
                except AttributeError:
                    errors.append(get_missing_field_error(reader.loc))
                    continue
            value = reader.check(value, reader.loc, errors)
            if value is not _MISSING:
                values[reader.name] = value


# what a step does with its result
_CALL_ASYNC = 0
_CALL_SYNC = 1
_CALL_ASYNC_GEN = 2
_CALL_GEN = 3
_ROOT = 4


class _Step:
    __slots__ = (
        "background_name",
        "body",
        "cache_key",
        "call",
        "children",
        "connection_name",
        "dependant",
        "function_scope",
        "groups",
        "kind",
        "name",
        "reads",
        "request_name",
        "response_name",
        "scopes",
        "scopes_name",
        "special",
        "use_cache",
        "websocket_name",
    )

    call: Any
    kind: int
    name: str | None
    cache_key: Any
    use_cache: bool
    function_scope: bool
    children: list[tuple[int, str | None]]
    groups: list[_ParamGroup]
    body: _BodyReader | None
    request_name: str | None
    websocket_name: str | None
    connection_name: str | None
    response_name: str | None
    background_name: str | None
    scopes_name: str | None
    scopes: list[str]
    dependant: Dependant
    reads: bool
    special: bool


class SolvePlan:
    """The dependency tree of one endpoint flattened into steps (children before parents)."""

    __slots__ = (
        "empty", "has_body", "needs_background", "needs_response", "needs_stack", "path_readers", "steps",
    )  # fmt: skip

    def __init__(self, steps: list[_Step]) -> None:
        self.steps = steps
        root = steps[0]
        alone = len(steps) == 1 and not root.children and not root.special
        # Nothing to read, call or pass: `run_plan` would give empty values and no errors.
        self.empty = alone and not root.reads
        # Only path parameters, each read on its own: `read_path_values` does what `run_plan` would.
        self.path_readers: list[_FieldReader] | None = None
        if (
            alone
            and root.reads
            and root.body is None
            and len(root.groups) == 1
            and root.groups[0].source == _FROM_PATH
            and root.groups[0].model_field is None
        ):
            self.path_readers = root.groups[0].readers
        self.needs_stack = any(s.kind in (_CALL_GEN, _CALL_ASYNC_GEN) for s in steps)
        self.needs_response = any(s.response_name for s in steps)
        self.needs_background = any(s.background_name for s in steps)
        self.has_body = any(s.body is not None for s in steps)


def compile_plan(
    dependant: Dependant,
    *,
    embed_body_fields: bool,
    overrides: Mapping[Any, Any] | None = None,
) -> SolvePlan:
    steps: list[_Step] = []
    scopes_cache: dict[int, bool] = {}

    def visit(dep: Dependant, original: Dependant, root: bool) -> int:
        children: list[tuple[int, str | None]] = []
        for sub in dep.dependencies:
            use = sub
            if overrides and sub.call in overrides:
                use = get_dependant(
                    path=cast(str, sub.path),
                    call=overrides[sub.call],
                    name=sub.name,
                    parent_oauth_scopes=_get_oauth_scopes(dependant=sub),
                    scope=sub.scope,
                )
            children.append((visit(use, sub, False), sub.name))
        step = _Step()
        step.dependant = dep
        step.call = dep.call
        step.name = original.name
        step.children = children
        step.cache_key = _get_cache_key(dependant=original, uses_scopes_cache=scopes_cache)
        step.use_cache = original.use_cache
        step.function_scope = original.scope == "function"
        if root:
            step.kind = _ROOT
        elif _is_gen_callable(dep.call) or _is_async_gen_callable(dep.call):
            step.kind = _CALL_ASYNC_GEN if _is_async_gen_callable(dep.call) else _CALL_GEN
        elif _is_coroutine_callable(dep.call):
            step.kind = _CALL_ASYNC
        else:
            step.kind = _CALL_SYNC
        groups = []
        for location, fields in (
            ("path", dep.path_params),
            ("query", dep.query_params),
            ("header", dep.header_params),
            ("cookie", dep.cookie_params),
        ):
            if fields:
                groups.append(_ParamGroup(location, fields))
        step.groups = groups
        step.body = _BodyReader(dep.body_params, embed_body_fields) if dep.body_params else None
        step.request_name = dep.request_param_name
        step.websocket_name = dep.websocket_param_name
        step.connection_name = dep.http_connection_param_name
        step.response_name = dep.response_param_name
        step.background_name = dep.background_tasks_param_name
        step.scopes_name = dep.security_scopes_param_name
        step.scopes = _get_oauth_scopes(dependant=dep) if dep.security_scopes_param_name else []
        step.reads = bool(groups) or step.body is not None
        step.special = bool(
            step.request_name
            or step.websocket_name
            or step.connection_name
            or step.response_name
            or step.background_name
            or step.scopes_name
        )
        steps.append(step)
        return len(steps) - 1

    visit(dependant, dependant, True)
    return SolvePlan(steps)


class SolvedDependency:
    __slots__ = ("background_tasks", "dependency_cache", "errors", "response", "values")

    def __init__(
        self,
        values: dict[str, Any],
        errors: list[Any],
        background_tasks: BackgroundTasks | None,
        response: Response | None,
        dependency_cache: dict[Any, Any],
    ) -> None:
        self.values = values
        self.errors = errors
        self.background_tasks = background_tasks
        self.response = response
        self.dependency_cache = dependency_cache


# What a plan with nothing to solve gives, shared by its requests: nothing writes into a solved
# result (read-only mappings, so that nothing can by mistake).
NOTHING_SOLVED = SolvedDependency(MappingProxyType({}), (), None, None, MappingProxyType({}))  # type: ignore[arg-type]


def body_only_name(plan: SolvePlan) -> str | None:
    """The name of the endpoint's value when `plan` does nothing but read one body field, whole
    (then `run_plan` gives `{name: value}` and no errors: a JSON-validated body needs no run)."""
    if len(plan.steps) != 1:
        return None
    step = plan.steps[0]
    body = step.body
    if step.kind != _ROOT or step.groups or step.special or body is None or not body.single:
        return None
    return body.readers[0].name


def read_path_values(readers: list[_FieldReader], path_params: Any) -> tuple[dict[str, Any], list[Any]]:
    """`run_plan` for a plan with `path_readers`: the same values and errors (no sub-response, no
    background tasks)."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for reader in readers:
        # reader.read written out for a value that is there (a frame less a parameter); a missing
        # one goes to reader.read, which says so.
        value = path_params.get(reader.lookup)
        if value is not None and not reader.seq:
            try:
                values[reader.name] = reader.validate(value, from_attributes=True)
            except ValidationError as exc:
                errors.extend(prefix_errors(exc.errors(include_url=False), reader.loc))
            continue
        value = reader.read(path_params, False, errors)
        if value is not _MISSING:
            values[reader.name] = value
    return values, errors


def native_path_begin(
    begin: Callable[[Any, SolvePlan], Any],
    call: Callable[..., Any],
    readers: list[_FieldReader] | None,
    raise_errors: Callable[[Any, list[dict[str, Any]]], NoReturn],
) -> Callable[[Any, SolvePlan], Any] | None:
    """A route's `begin(request, plan)` for a coroutine endpoint `call` whose plan has these path
    `readers`, written natively (fasterapi_server._response.PathBegin): each value read from
    `request.path_params` and validated, as read_path_values does, and `call` called with them as
    keywords. Another plan and a missing value go to `begin`; for a refused value, the parameters
    after it are validated here and `raise_errors(request, errors)` gets the errors of all, as
    begin would (each validator is called once). None without the server, or for readers it does
    not take (a sequence, more than 16). It saves a request two Python frames and a dict; what
    that is worth, against FastAPI on uvicorn measured in the same run: docs/server.md, "Speed"."""
    if not readers or len(readers) > 16 or any(reader.seq for reader in readers):
        return None
    try:
        from fasterapi_server._response import PathBegin  # type: ignore[attr-defined, unused-ignore]  # noqa: PLC0415
    except ImportError:  # no server, or one without it
        return None

    def refused(request: Any, index: int, exc: ValidationError) -> NoReturn:
        errors = prefix_errors(exc.errors(include_url=False), readers[index].loc)
        errors.extend(read_path_values(readers[index + 1 :], request.path_params)[1])
        raise_errors(request, errors)

    return PathBegin(
        begin=begin,
        call=call,
        readers=readers,
        lookups=tuple(reader.lookup for reader in readers),
        names=tuple(reader.name for reader in readers),
        validators=tuple(reader.validate for reader in readers),
        validation_error=ValidationError,
        refused=refused,
    )


def new_sub_response() -> Response:
    response = Response()
    del response.headers["content-length"]
    response.status_code = None  # type: ignore[assignment]
    return response


async def run_plan(
    plan: SolvePlan,
    connection: Any,
    body: Any = None,
    *,
    response: Response | None = None,
    background_tasks: BackgroundTasks | None = None,
    dependency_cache: dict[Any, Any] | None = None,
) -> SolvedDependency:
    """Run the steps of `plan` for one request: validate parameters, call dependencies."""
    errors: list[dict[str, Any]] = []
    steps = plan.steps
    n = len(steps)
    if n == 1:
        results: list[Any] = []
        failed: list[bool] = []
    else:
        results = [None] * n
        failed = [False] * n
    cache: dict[Any, Any] = {} if dependency_cache is None else dependency_cache
    if response is None and plan.needs_response:
        response = new_sub_response()
    values: dict[str, Any] = {}
    for index, step in enumerate(steps):
        values = {}
        bad = False
        if step.children:
            for child, name in step.children:
                if failed[child]:
                    bad = True
                elif name is not None:
                    values[name] = results[child]
        if step.reads:
            n_errors = len(errors)
            for group in step.groups:
                where = group.source
                if where == _FROM_PATH:
                    source: Any = connection.path_params
                elif where == _FROM_QUERY:
                    source = connection.query_params
                elif where == _FROM_HEADER:
                    source = connection.headers
                else:
                    source = connection.cookies
                group.read(source, values, errors)
            if step.body is not None:
                await step.body.read(body, values, errors)
            if len(errors) != n_errors:
                bad = True
        if step.special:
            if step.connection_name:
                values[step.connection_name] = connection
            if step.request_name and isinstance(connection, Request):
                values[step.request_name] = connection
            elif step.websocket_name and isinstance(connection, WebSocket):
                values[step.websocket_name] = connection
            if step.background_name:
                if background_tasks is None:
                    background_tasks = BackgroundTasks()
                values[step.background_name] = background_tasks
            if step.response_name:
                values[step.response_name] = response
            if step.scopes_name:
                values[step.scopes_name] = SecurityScopes(scopes=list(step.scopes))
        kind = step.kind
        if kind == _ROOT:
            break
        if bad:
            failed[index] = True
            continue
        key = step.cache_key
        if step.use_cache and key in cache:
            result = cache[key]
        else:
            call = step.call
            if kind == _CALL_ASYNC:
                result = await call(**values)
            elif kind == _CALL_SYNC:
                result = await run_in_threadpool(call, **values)
            else:
                stack_key = "fastapi_function_astack" if step.function_scope else "fastapi_inner_astack"
                stack = connection.scope.get(stack_key)
                assert isinstance(stack, AsyncExitStack), f"{stack_key} not found in request scope"
                if kind == _CALL_ASYNC_GEN:
                    cm: Any = asynccontextmanager(call)(**values)
                else:
                    cm = contextmanager_in_threadpool(contextmanager(call)(**values))
                result = await stack.enter_async_context(cm)
            if key not in cache:
                cache[key] = result
        results[index] = result
    return SolvedDependency(values, errors, background_tasks, response, cache)


async def solve_dependencies(
    *,
    request: Request | WebSocket,
    dependant: Dependant,
    body: dict[str, Any] | FormData | bytes | None = None,
    background_tasks: BackgroundTasks | None = None,
    response: Response | None = None,
    dependency_overrides_provider: Any | None = None,
    dependency_cache: dict[DependencyCacheKey, Any] | None = None,
    async_exit_stack: AsyncExitStack | None = None,
    embed_body_fields: bool = False,
) -> SolvedDependency:
    """Compatibility entry point: compile `dependant` and run it (the routes keep compiled plans)."""
    overrides = getattr(dependency_overrides_provider, "dependency_overrides", None) or None
    plan = compile_plan(dependant, embed_body_fields=embed_body_fields, overrides=overrides)
    solved = await run_plan(
        plan,
        request,
        body,
        response=response or new_sub_response(),
        background_tasks=background_tasks,
        dependency_cache=dependency_cache,
    )
    return solved


def request_params_to_args(
    fields: Sequence[ModelField], received_params: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Any]]:
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    if not fields:
        return values, errors
    info = fields[0].field_info
    location = info.in_.value if isinstance(info, params.Param) else "query"
    _ParamGroup(location, list(fields)).read(received_params, values, errors)
    return values, errors


async def request_body_to_args(
    body_fields: list[ModelField], received_body: Any, embed_body_fields: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    await _BodyReader(body_fields, embed_body_fields).read(received_body, values, errors)
    return values, errors
