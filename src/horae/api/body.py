"""Request bodies as Cronofy accepts them: JSON or form-encoded, validated into a pydantic model."""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ValidationError

from horae.errors import FieldError, InvalidRequest

M = TypeVar("M", bound=BaseModel)
MAX_BODY = 1_000_000


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict: JSON objects and form fields (`a[]=` repeated makes a list); empty is {}."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidRequest.single("request", "errors.too_large", "the request body is too large")
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return _form(raw)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest.single("request", "errors.invalid_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRequest.single("request", "errors.invalid_json", "the body must be a JSON object")
    return data


def _form(raw: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise InvalidRequest.single("request", "errors.invalid_encoding", "the form body is not UTF-8") from exc
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            data.setdefault(key[:-2], []).append(value)
        else:
            data[key] = value
    return data


def validate(model: type[M], data: dict[str, Any]) -> M:
    """The model, or InvalidRequest naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: dict[str, list[FieldError]] = {}
        for item in exc.errors():
            field = ".".join(str(p) for p in item["loc"]) or "request"
            key = "errors.required" if item["type"] == "missing" else f"errors.{item['type']}"
            problems.setdefault(field, []).append(FieldError(key, f"{field}: {item['msg']}"))
        raise InvalidRequest(problems) from exc


async def parse(request: Request, model: type[M]) -> M:
    """Read and validate the body in one step."""
    return validate(model, await read_body(request))


def openapi_body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting a body that may come as JSON or as a form."""
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }
