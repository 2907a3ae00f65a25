"""ASGI middleware: request ids, one structured log line per request, rate-limit headers."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("horae.http")
# Paths that end in a bearer secret (a single-use link mailed to someone): logged without it.
SECRET_PATHS = ("/password-reset/", "/invitations/", "/conferencing_services/")


def loggable_path(path: str) -> str:
    for prefix in SECRET_PATHS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "[secret]"
    return path


class RequestContext:
    """Adds `X-Request-Id` and any `RateLimit-*` headers, logs each request once it is answered, and turns
    away paths with a NUL in them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            # No resource has a NUL in its id, and PostgreSQL refuses NUL in text: answer here.
            await JSONResponse({"error": "not_found", "error_description": "no such resource"}, 404)(
                scope, receive, send
            )
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in state.get("rate_limit_headers", {}).items():
                    headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # The path only: query strings can carry element tokens.
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": loggable_path(scope["path"]),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "request_id": request_id,
                },
            )
