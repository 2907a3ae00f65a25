"""OpenAPI helpers: documented error responses per route, and Cronofy's 422 shape in place of FastAPI's."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from horae.api.schemas.errors import ErrorBody, OAuthErrorBody, ValidationErrors

_DESCRIPTIONS = {
    400: "The request was not understood (OAuth endpoints only)",
    401: "Credentials not recognised",
    403: "Credentials lack the scope or permission needed",
    404: "Not found",
    422: "A parameter is missing or invalid",
    423: "Locked",
    429: "Rate limit exceeded; see Retry-After",
}


def errors(*statuses: int, oauth: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these error statuses (429 is added everywhere it applies)."""
    result: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if oauth and status in (400, 401):
            model: type = OAuthErrorBody
        elif status == 422:
            model = ValidationErrors
        else:
            model = ErrorBody
        result[status] = {"model": model, "description": _DESCRIPTIONS[status]}
    return result


def install(app: FastAPI) -> None:
    """Generate the document once, replacing FastAPI's validation-error schema with Cronofy's."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                response = operation.get("responses", {}).get("422")
                if response is not None:
                    response["description"] = _DESCRIPTIONS[422]
                    response["content"] = {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrors"}}
                    }
        components.setdefault(
            "ValidationErrors", ValidationErrors.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for name, sub in (
            ValidationErrors.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items()
        ):
            components.setdefault(name, sub)
        components["ValidationErrors"].pop("$defs", None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
