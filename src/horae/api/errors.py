"""The one place where Horae's exceptions become HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from horae import errors as e

log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status.
STATUS: list[tuple[type[e.HoraeError], int]] = [
    (e.InvalidRequest, 422),
    (e.AuthenticationFailed, 401),
    (e.PermissionDenied, 403),
    (e.NotFound, 404),
    (e.Locked, 423),
    (e.RateLimited, 429),
    (e.InvalidClient, 401),
    (e.OAuthRedirect, 400),
    (e.OAuthError, 400),
    # A calendar service failing during a request (rare: syncs and writes run as jobs) is the upstream's fault.
    (e.ProviderUnavailable, 503),
    (e.ProviderError, 502),
]

_KEYS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    423: "locked",
    429: "too_many_requests",
    502: "bad_gateway",
    503: "service_unavailable",
}


def status_for(exc: e.HoraeError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: e.HoraeError) -> JSONResponse:
    """The response for any HoraeError."""
    status = status_for(exc)
    if isinstance(exc, e.InvalidRequest):
        body = {
            "errors": {
                field: [{"key": d.key, "description": d.description} for d in details]
                for field, details in exc.errors.items()
            }
        }
        return JSONResponse(body, status)
    if isinstance(exc, e.OAuthError):
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="horae"'
        return JSONResponse({"error": exc.error, "error_description": exc.description}, status, headers)
    headers = {}
    if isinstance(exc, e.RateLimited):
        headers = {**exc.headers, "Retry-After": str(exc.retry_after)}
    if isinstance(exc, e.ProviderUnavailable) and exc.retry_after_seconds:
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="horae"'
    if status == 500:
        log.error("unmapped HoraeError", exc_info=exc)
        return JSONResponse({"error": "internal_error", "error_description": "internal error"}, 500)
    return JSONResponse({"error": _KEYS[status], "error_description": exc.message}, status, headers)


def validation_to_invalid_request(exc: RequestValidationError) -> e.InvalidRequest:
    """FastAPI's parameter errors, reshaped into Cronofy's per-field 422 body."""
    problems: dict[str, list[e.FieldError]] = {}
    for item in exc.errors():
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "request"
        key = "errors.required" if item.get("type") == "missing" else f"errors.{item.get('type', 'invalid')}"
        problems.setdefault(field, []).append(e.FieldError(key, f"{field}: {item.get('msg', 'is invalid')}"))
    return e.InvalidRequest(problems)


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    async def horae_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, e.HoraeError)
        if isinstance(exc, e.RateLimited):
            # The 429 carries the RateLimit-* headers itself; stop RequestContext from adding them a second time.
            request.state.rate_limit_headers = {}
        return error_response(exc)

    async def request_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith("/oauth/"):
            return error_response(e.OAuthError("invalid_request", "malformed request"))
        return error_response(validation_to_invalid_request(exc))

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        key = _KEYS.get(exc.status_code, "error")
        return JSONResponse({"error": key, "error_description": str(exc.detail)}, exc.status_code, exc.headers)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"error": "internal_error", "error_description": "internal error"}, 500)

    app.add_exception_handler(e.HoraeError, horae_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
