"""OpenAPI helpers: documented error responses, credentials and bodies per route, and Cronofy's 422 shape
in place of FastAPI's."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from horae.api import body
from horae.api.schemas.errors import ErrorBody, OAuthErrorBody, ValidationErrors
from horae.domain import scopes

_DESCRIPTIONS = {
    400: "The request was not understood (OAuth endpoints only)",
    401: "Credentials not recognised",
    403: "Credentials lack the scope or permission needed",
    404: "Not found",
    422: "A parameter is missing or invalid",
    423: "Locked",
    429: "Rate limit exceeded; see Retry-After",
}


# A marker on a documented response whose body is empty; `install` drops its (JSON) content.
_NO_CONTENT = "x-horae-no-content"

ACCESS_TOKEN = "accessToken"
API_KEY = "apiKey"

_SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    ACCESS_TOKEN: {
        "type": "oauth2",
        "description": "An account's access token, sent as `Authorization: Bearer {access_token}`.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize",
                "tokenUrl": "/oauth/token",
                "refreshUrl": "/oauth/token",
                "scopes": {
                    **scopes.GRANULAR,
                    **{word: "Shorthand for: " + ", ".join(sorted(g)) for word, g in scopes.SIMPLIFIED.items()},
                },
            }
        },
    },
    API_KEY: {
        "type": "http",
        "scheme": "bearer",
        "description": "The application's API key (its client secret): `Authorization: Bearer {client_secret}`.",
    },
}

_INTEGER_HEADER = {"schema": {"type": "integer", "minimum": 0}}
_RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Limit": {"description": "Requests allowed in the current window", **_INTEGER_HEADER},
    "RateLimit-Remaining": {"description": "Requests left in the current window", **_INTEGER_HEADER},
    "RateLimit-Reset": {"description": "Seconds until the window resets", **_INTEGER_HEADER},
}
_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {"WWW-Authenticate": {"description": "The scheme to authenticate with", "schema": {"type": "string"}}},
    429: {
        "Retry-After": {"description": "Seconds to wait before trying again", "required": True, **_INTEGER_HEADER},
        **{name: {**header, "required": True} for name, header in _RATE_LIMIT_HEADERS.items()},
    },
}


def errors(*statuses: int, oauth: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these error statuses, with their bodies and headers."""
    result: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if oauth and status in (400, 401):
            model: type = OAuthErrorBody
        elif status == 422:
            model = ValidationErrors
        else:
            model = ErrorBody
        result[status] = {"model": model, "description": _DESCRIPTIONS[status]}
        if status in _HEADERS:
            result[status]["headers"] = deepcopy(_HEADERS[status])
    return result


def empty(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry for a success answered with an empty body (no content type)."""
    return {status: {"description": description, _NO_CONTENT: True}}


def account_token(*needed: str) -> dict[str, Any]:
    """`openapi_extra` for a route that takes an account access token (with these scopes)."""
    return {"security": [{ACCESS_TOKEN: list(needed)}]}


def api_key() -> dict[str, Any]:
    """`openapi_extra` for a route that takes the application's API key."""
    return {"security": [{API_KEY: []}]}


def api_key_or_account_token(*needed: str) -> dict[str, Any]:
    """`openapi_extra` for a route that takes the API key or, as a legacy, an account access token."""
    return {"security": [{API_KEY: []}, {ACCESS_TOKEN: list(needed)}]}


def _form_and_json(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


# Non-empty text without NUL characters (body.validate refuses NUL in every field a model accepts).
_TEXT = {"type": "string", "pattern": "^[^\\x00]+$"}
_CLIENT = {
    "client_id": {**_TEXT, "description": "The application's client_id"},
    "client_secret": {**_TEXT, "description": "The application's client secret"},
}


def token_request() -> dict[str, Any]:
    """`openapi_extra` for `POST /oauth/token`: one of the two grants, JSON or form; extra keys are ignored."""
    code_grant = {
        "title": "AuthorizationCodeGrant",
        "type": "object",
        "properties": {
            "grant_type": {"const": "authorization_code"},
            **_CLIENT,
            "code": {**_TEXT, "description": "The code the authorize redirect carried"},
            "redirect_uri": {**_TEXT, "description": "The redirect_uri given to /oauth/authorize"},
        },
        "required": ["grant_type", "client_id", "client_secret", "code", "redirect_uri"],
    }
    refresh_grant = {
        "title": "RefreshTokenGrant",
        "type": "object",
        "properties": {
            "grant_type": {"const": "refresh_token"},
            **_CLIENT,
            "refresh_token": {**_TEXT, "description": "The refresh token of an earlier grant"},
        },
        "required": ["grant_type", "client_id", "client_secret", "refresh_token"],
    }
    return _form_and_json({"title": "TokenRequest", "oneOf": [code_grant, refresh_grant]})


def revoke_request() -> dict[str, Any]:
    """`openapi_extra` for `POST /oauth/token/revoke` (RFC 7009): a token (or the Node SDK's `refresh_token`)
    or a `sub`; when both are given, the token wins."""
    return _form_and_json(
        {
            "title": "RevokeRequest",
            "type": "object",
            "properties": {
                **_CLIENT,
                "token": {**_TEXT, "description": "A refresh token (recommended) or an access token"},
                "refresh_token": {**_TEXT, "description": "Another name for `token`"},
                "sub": {**_TEXT, "description": "Revoke every authorization of this account for the application"},
            },
            "required": ["client_id", "client_secret"],
            "anyOf": [{"required": ["token"]}, {"required": ["refresh_token"]}, {"required": ["sub"]}],
        }
    )


def install(app: FastAPI) -> None:
    """Generate the document once, replacing FastAPI's validation-error schema with Cronofy's."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        schema["components"]["securitySchemes"] = deepcopy(_SECURITY_SCHEMES)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for name, nested in operation.pop(body.COMPONENTS_KEY, {}).items():
                    if components.setdefault(name, nested) != nested:
                        raise ValueError(f"two different request models are both named {name!r}")
                for status, documented in operation.get("responses", {}).items():
                    if documented.pop(_NO_CONTENT, False):
                        documented.pop("content", None)
                    if operation.get("security") and status.startswith("2"):
                        # Calls with credentials count against the application's limits, and say so.
                        headers = {name: {**h, "required": True} for name, h in _RATE_LIMIT_HEADERS.items()}
                        documented.setdefault("headers", {}).update(headers)
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
