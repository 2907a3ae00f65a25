"""Request bodies as Cronofy accepts them: JSON or form-encoded, validated into a pydantic model."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ValidationError

from horae.errors import FieldError, InvalidRequest

M = TypeVar("M", bound=BaseModel)
MAX_BODY = 1_000_000


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict: JSON objects and form fields (`a[]=` repeated makes a list); empty is {}."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _too_large()
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return _form(raw) if content_type == "application/x-www-form-urlencoded" else _json(raw)


def _too_large() -> InvalidRequest:
    return InvalidRequest.single("request", "errors.too_large", f"the request body is over {MAX_BODY} bytes")


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidRequest.single("request", "errors.invalid_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRequest.single("request", "errors.invalid_json", "the body must be a JSON object")
    return data


def _form(raw: bytes) -> dict[str, Any]:
    """Form fields; `a[]=1&a[]=2` (or any mix with plain `a=`) makes a list, a repeated plain `a=` keeps the last."""
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidRequest.single("request", "errors.invalid_encoding", "the form body is not UTF-8") from exc
    data: dict[str, Any] = {}
    lists: set[str] = set()
    for key, value in pairs:
        name = key.removesuffix("[]")
        if key.endswith("[]") or name in lists:
            if name not in lists:
                data[name] = [data[name]] if name in data else []
                lists.add(name)
            data[name].append(value)
        else:
            data[name] = value
    return data


# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _reject_nul(data: dict[str, Any]) -> None:
    """No text Horae keeps may hold a NUL character (PostgreSQL cannot store one), so the fields a model
    accepted are checked here; unknown fields, which are ignored, may hold anything."""
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        field, value = pending.pop()
        if isinstance(value, str) and _UNSTORABLE.search(value):
            name = field or "request"
            raise InvalidRequest.single(
                name, "errors.invalid_characters", f"{name} must not contain NUL or unpaired surrogate characters"
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key):
                    raise InvalidRequest.single(
                        "request", "errors.invalid_characters", "field names must not contain NUL characters"
                    )
                pending.append((f"{field}.{key}" if field else str(key), item))
        elif isinstance(value, list):
            pending.extend((f"{field}.{index}", item) for index, item in enumerate(value))


def validate(model: type[M], data: dict[str, Any]) -> M:
    """The model, or InvalidRequest naming each bad field."""
    try:
        valid = model.model_validate(data)
    except ValidationError as exc:
        problems: dict[str, list[FieldError]] = {}
        for item in exc.errors():
            field = ".".join(str(p) for p in item["loc"]) or "request"
            key = "errors.required" if item["type"] == "missing" else f"errors.{item['type']}"
            problems.setdefault(field, []).append(FieldError(key, f"{field}: {item['msg']}"))
        raise InvalidRequest(problems) from exc
    _reject_nul(valid.model_dump(by_alias=True))
    return valid


async def parse(request: Request, model: type[M]) -> M:
    """Read and validate the body in one step."""
    return validate(model, await read_body(request))


# Where `openapi_body` leaves the models a body refers to; `openapi.install` moves them into components.
COMPONENTS_KEY = "x-horae-components"
# Text without NUL characters, which `validate` refuses in any field a model accepts.
NUL_FREE = "^[^\\x00\\ud800-\\udfff]*$"


def _storable_text(schema: Any) -> None:
    """Say of every free-text string in a schema that it holds no NUL or lone surrogate (see validate)."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
            schema["pattern"] = NUL_FREE
        for value in schema.values():
            _storable_text(value)
    elif isinstance(schema, list):
        for item in schema:
            _storable_text(item)


def openapi_body(
    model: type[BaseModel],
    required: bool = True,
    *,
    require: Sequence[str] = (),
    schema_extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`openapi_extra` documenting a body that may come as JSON or as a form.

    `require` names fields the handler insists on although the model gives them a default (so that the
    handler can word the 422 itself): they are documented as required and, when text, as non-empty.
    `schema_extra` adds JSON-schema keywords, e.g. `{"anyOf": [{"required": ["event_id"]}, ...]}`."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    if require:
        schema["required"] = list(dict.fromkeys([*schema.get("required", []), *require]))
        for name in require:
            field = schema["properties"][name]
            if field.get("type") == "string":
                field["minLength"] = max(field.get("minLength", 0), 1)
                field.setdefault("pattern", NUL_FREE)
    schema.update(schema_extra or {})
    for part in (schema, *nested.values()):
        _storable_text(part)
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        },
        COMPONENTS_KEY: nested,
    }
