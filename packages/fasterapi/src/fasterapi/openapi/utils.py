"""Generation of the OpenAPI document from the routes."""

from __future__ import annotations

import copy
import http.client
import inspect
import warnings
from collections.abc import Sequence
from typing import Any, cast

from pydantic import BaseModel

from fasterapi._compat import (
    ModelField,
    _Unset,
    get_definitions,
    get_flat_models_from_fields,
    get_model_name_map,
    get_schema_from_model_field,
    lenient_issubclass,
)
from fasterapi.datastructures import DefaultPlaceholder
from fasterapi.dependencies.models import (
    Dependant,
    DependencyCacheKey,
    _get_cache_key,
    _get_oauth_scopes,
    _get_security_scheme,
    _is_security_scheme,
)
from fasterapi.dependencies.utils import _get_flat_fields_from_params, get_flat_params, get_validation_alias
from fasterapi.encoders import jsonable_encoder
from fasterapi.openapi.constants import METHODS_WITH_BODY, REF_PREFIX
from fasterapi.openapi.models import OpenAPI
from fasterapi.params import Body, ParamTypes
from fasterapi.responses import JSONResponse, Response
from fasterapi.routing import APIRoute
from fasterapi.utils import deep_dict_update, is_body_allowed_for_status_code

validation_error_definition = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {
            "title": "Location",
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}

validation_error_response_definition = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {
            "title": "Detail",
            "type": "array",
            "items": {"$ref": REF_PREFIX + "ValidationError"},
        }
    },
}

status_code_ranges: dict[str, str] = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}

_SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


class _DependencyData:
    __slots__ = ("cookie_params", "header_params", "path_params", "query_params", "security_dependencies")

    def __init__(self) -> None:
        self.path_params: list[ModelField] = []
        self.query_params: list[ModelField] = []
        self.header_params: list[ModelField] = []
        self.cookie_params: list[ModelField] = []
        self.security_dependencies: list[tuple[Dependant, list[str]]] = []


def _collect_dependency_data(dependant: Dependant) -> _DependencyData:
    data = _DependencyData()
    visited: list[DependencyCacheKey] = []
    scopes_cache: dict[int, bool] = {}
    stack: list[tuple[Dependant, list[str], bool]] = [(dependant, [], True)]
    while stack:
        current, parent_scopes, is_root = stack.pop()
        key = _get_cache_key(dependant=current, uses_scopes_cache=scopes_cache)
        if key in visited:
            continue
        visited.append(key)
        data.path_params.extend(current.path_params)
        data.query_params.extend(current.query_params)
        data.header_params.extend(current.header_params)
        data.cookie_params.extend(current.cookie_params)
        scopes = parent_scopes.copy()
        for scope in _get_oauth_scopes(dependant=current):
            if scope not in scopes:
                scopes.append(scope)
        if not is_root and _is_security_scheme(dependant=current):
            data.security_dependencies.append((current, scopes))
        stack.extend((sub, scopes, False) for sub in reversed(current.dependencies))
    return data


def _security_definitions(
    security_dependencies: list[tuple[Dependant, list[str]]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    definitions: dict[str, Any] = {}
    by_name: dict[str, list[str]] = {}
    for dependency, scopes in security_dependencies:
        scheme = _get_security_scheme(dependant=dependency)
        definitions[scheme.scheme_name] = jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
        merged = by_name.setdefault(scheme.scheme_name, [])
        for scope in scopes:
            if scope not in merged:
                merged.append(scope)
    return definitions, [{name: scopes} for name, scopes in by_name.items()]


def _operation_parameters(
    *,
    data: _DependencyData,
    field_mapping: dict[Any, Any],
    separate_input_output_schemas: bool,
) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    default_convert = True
    if len(data.header_params) == 1:
        first = data.header_params[0]
        if lenient_issubclass(first.field_info.annotation, BaseModel):
            default_convert = getattr(first.field_info, "convert_underscores", True)
    for location, group in (
        (ParamTypes.path, data.path_params),
        (ParamTypes.query, data.query_params),
        (ParamTypes.header, data.header_params),
        (ParamTypes.cookie, data.cookie_params),
    ):
        for param in _get_flat_fields_from_params(group):
            info = param.field_info
            if not getattr(info, "include_in_schema", True):
                continue
            schema = get_schema_from_model_field(
                field=param,
                field_mapping=field_mapping,
                separate_input_output_schemas=separate_input_output_schemas,
            )
            name = get_validation_alias(param)
            convert = getattr(info, "convert_underscores", default_convert)
            if location == ParamTypes.header and name == param.name and convert:
                name = param.name.replace("_", "-")
            parameter: dict[str, Any] = {
                "name": name,
                "in": location.value,
                "required": info.is_required(),
                "schema": schema,
            }
            if info.description:
                parameter["description"] = info.description
            openapi_examples = getattr(info, "openapi_examples", None)
            example = getattr(info, "example", None)
            if openapi_examples:
                parameter["examples"] = jsonable_encoder(openapi_examples)
            elif example is not _Unset:
                parameter["example"] = jsonable_encoder(example)
            if getattr(info, "deprecated", None):
                parameter["deprecated"] = True
            parameters.append(parameter)
    return parameters


def get_openapi_operation_request_body(
    *,
    body_field: ModelField | None,
    model_name_map: Any = None,
    field_mapping: dict[Any, Any],
    separate_input_output_schemas: bool = True,
) -> dict[str, Any] | None:
    if not body_field:
        return None
    schema = get_schema_from_model_field(
        field=body_field,
        field_mapping=field_mapping,
        separate_input_output_schemas=separate_input_output_schemas,
    )
    info = cast(Body, body_field.field_info)
    out: dict[str, Any] = {}
    if body_field.field_info.is_required():
        out["required"] = True
    content: dict[str, Any] = {"schema": schema}
    if info.openapi_examples:
        content["examples"] = jsonable_encoder(info.openapi_examples)
    elif info.example is not _Unset:
        content["example"] = jsonable_encoder(info.example)
    out["content"] = {info.media_type: content}
    return out


def generate_operation_summary(*, route: Any, method: str) -> str:
    if route.summary:
        return cast(str, route.summary)
    return cast(str, route.name.replace("_", " ").title())


def get_openapi_operation_metadata(*, route: Any, method: str, operation_ids: set[str]) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if route.tags:
        operation["tags"] = route.tags
    operation["summary"] = generate_operation_summary(route=route, method=method)
    if route.description:
        operation["description"] = route.description
    operation_id = route.operation_id or route.unique_id
    if operation_id in operation_ids:
        endpoint_name = getattr(route.endpoint, "__name__", "<unnamed_endpoint>")
        message = f"Duplicate Operation ID {operation_id} for function {endpoint_name}"
        file_name = getattr(route.endpoint, "__globals__", {}).get("__file__")
        if file_name:
            message += f" at {file_name}"
        warnings.warn(message, stacklevel=1)
    operation_ids.add(operation_id)
    operation["operationId"] = operation_id
    if route.deprecated:
        operation["deprecated"] = route.deprecated
    return operation


def _default_status_code(response_class: type[Response]) -> str | None:
    param = inspect.signature(response_class.__init__).parameters.get("status_code")
    if param is not None and isinstance(param.default, int):
        return str(param.default)
    return None


def get_openapi_path(
    *,
    route: Any,
    operation_ids: set[str],
    model_name_map: Any = None,
    field_mapping: dict[Any, Any],
    separate_input_output_schemas: bool = True,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    path: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    sep = separate_input_output_schemas
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    media_type: str | None = response_class.media_type
    if not route.include_in_schema:
        return path, security_schemes, definitions
    data = _collect_dependency_data(route.dependant)
    has_params = any(
        _get_flat_fields_from_params(group)
        for group in (data.path_params, data.query_params, data.header_params, data.cookie_params)
    )
    for method in route.methods:
        operation = get_openapi_operation_metadata(route=route, method=method, operation_ids=operation_ids)
        sec_defs, op_security = _security_definitions(data.security_dependencies)
        if op_security:
            operation.setdefault("security", []).extend(op_security)
        if sec_defs:
            security_schemes.update(sec_defs)
        parameters = _operation_parameters(
            data=data, field_mapping=field_mapping, separate_input_output_schemas=sep
        )
        if parameters:
            every = {(p["in"], p["name"]): p for p in parameters}
            every.update({(p["in"], p["name"]): p for p in parameters if p.get("required")})
            operation["parameters"] = list(every.values())
        if method in METHODS_WITH_BODY:
            request_body = get_openapi_operation_request_body(
                body_field=route.body_field, field_mapping=field_mapping, separate_input_output_schemas=sep
            )
            if request_body:
                operation["requestBody"] = request_body
        if route.callbacks:
            callbacks = {}
            for callback in route.callbacks:
                if isinstance(callback, APIRoute):
                    cb_path, _, _ = get_openapi_path(
                        route=callback,
                        operation_ids=operation_ids,
                        field_mapping=field_mapping,
                        separate_input_output_schemas=sep,
                    )
                    callbacks[callback.name] = {callback.path: cb_path}
            operation["callbacks"] = callbacks
        status_code: str | None
        if route.status_code is not None:
            status_code = str(route.status_code)
        else:
            status_code = _default_status_code(response_class)
        responses = operation.setdefault("responses", {})
        responses.setdefault(status_code, {})["description"] = route.response_description
        if is_body_allowed_for_status_code(route.status_code):
            content = responses.setdefault(status_code, {})
            if route.is_json_stream:
                item_schema: dict[str, Any] = {}
                if route.stream_item_field:
                    item_schema = get_schema_from_model_field(
                        field=route.stream_item_field,
                        field_mapping=field_mapping,
                        separate_input_output_schemas=sep,
                    )
                content.setdefault("content", {})["application/jsonl"] = {"itemSchema": item_schema}
            elif route.is_sse_stream:
                sse_schema = copy.deepcopy(_SSE_EVENT_SCHEMA)
                if route.stream_item_field:
                    inner = get_schema_from_model_field(
                        field=route.stream_item_field,
                        field_mapping=field_mapping,
                        separate_input_output_schemas=sep,
                    )
                    sse_schema["required"] = ["data"]
                    sse_schema["properties"]["data"] = {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": inner,
                    }
                content.setdefault("content", {})["text/event-stream"] = {"itemSchema": sse_schema}
            elif media_type:
                response_schema: dict[str, Any] = {"type": "string"}
                if lenient_issubclass(response_class, JSONResponse):
                    if route.response_field:
                        response_schema = get_schema_from_model_field(
                            field=route.response_field,
                            field_mapping=field_mapping,
                            separate_input_output_schemas=sep,
                        )
                    else:
                        response_schema = {}
                content.setdefault("content", {}).setdefault(media_type, {})["schema"] = response_schema
        if route.responses:
            for extra_status, extra_response in route.responses.items():
                process = copy.deepcopy(extra_response)
                process.pop("model", None)
                key = str(extra_status).upper()
                if key == "DEFAULT":
                    key = "default"
                openapi_response = responses.setdefault(key, {})
                assert isinstance(process, dict), "An additional response must be a dict"
                field = route.response_fields.get(extra_status)
                if field:
                    field_schema = get_schema_from_model_field(
                        field=field, field_mapping=field_mapping, separate_input_output_schemas=sep
                    )
                    target = (
                        process.setdefault("content", {})
                        .setdefault(media_type or "application/json", {})
                        .setdefault("schema", {})
                    )
                    deep_dict_update(target, field_schema)
                status_text = status_code_ranges.get(str(extra_status).upper()) or http.client.responses.get(
                    int(extra_status)
                )
                description = (
                    process.get("description")
                    or openapi_response.get("description")
                    or status_text
                    or "Additional Response"
                )
                deep_dict_update(openapi_response, process)
                openapi_response["description"] = description
        if (has_params or route.body_field) and not any(s in responses for s in ("422", "4XX", "default")):
            responses["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}},
            }
            if "ValidationError" not in definitions:
                definitions["ValidationError"] = validation_error_definition
                definitions["HTTPValidationError"] = validation_error_response_definition
        if route.openapi_extra:
            deep_dict_update(operation, route.openapi_extra)
        path[method.lower()] = operation
    return path, security_schemes, definitions


def _api_routes(routes: Sequence[Any]) -> list[Any]:
    return [r for r in routes if isinstance(r, APIRoute)]


def get_fields_from_routes(routes: Sequence[Any]) -> list[ModelField]:
    body_fields: list[ModelField] = []
    response_fields: list[ModelField] = []
    request_fields: list[ModelField] = []
    callback_fields: list[ModelField] = []
    for route in _api_routes(routes):
        if not route.include_in_schema:
            continue
        if route.body_field:
            body_fields.append(route.body_field)
        if route.response_field:
            response_fields.append(route.response_field)
        if route.response_fields:
            response_fields.extend(route.response_fields.values())
        if route.stream_item_field:
            response_fields.append(route.stream_item_field)
        if route.callbacks:
            callback_fields.extend(get_fields_from_routes(route.callbacks))
        request_fields.extend(get_flat_params(route.dependant))
    return callback_fields + body_fields + response_fields + request_fields


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, str | Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, str | Any] | None = None,
    license_info: dict[str, str | Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    info: dict[str, Any] = {"title": title, "version": version}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = contact
    if license_info:
        info["license"] = license_info
    output: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        output["servers"] = servers
    components: dict[str, dict[str, Any]] = {}
    paths: dict[str, dict[str, Any]] = {}
    webhook_paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    all_fields = get_fields_from_routes(list(routes) + list(webhooks or []))
    model_name_map = get_model_name_map(get_flat_models_from_fields(all_fields, known_models=set()))
    field_mapping, definitions = get_definitions(
        fields=all_fields,
        model_name_map=model_name_map,
        separate_input_output_schemas=separate_input_output_schemas,
    )
    for target, source in ((paths, routes), (webhook_paths, webhooks or [])):
        for route in _api_routes(source):
            path, security_schemes, path_definitions = get_openapi_path(
                route=route,
                operation_ids=operation_ids,
                model_name_map=model_name_map,
                field_mapping=field_mapping,
                separate_input_output_schemas=separate_input_output_schemas,
            )
            if path:
                target.setdefault(route.path_format, {}).update(path)
            if security_schemes:
                components.setdefault("securitySchemes", {}).update(security_schemes)
            if path_definitions:
                definitions.update(path_definitions)
    if definitions:
        components["schemas"] = {k: definitions[k] for k in sorted(definitions)}
    if components:
        output["components"] = components
    output["paths"] = paths
    if webhook_paths:
        output["webhooks"] = webhook_paths
    if tags:
        output["tags"] = tags
    if external_docs:
        output["externalDocs"] = external_docs
    return cast(dict[str, Any], jsonable_encoder(OpenAPI(**output), by_alias=True, exclude_none=True))
