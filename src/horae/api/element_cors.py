"""CORS for UI Elements, and only for them: a request carrying an element token (`?et=`) may come from a page
on the token's origin and no other; every other request gets no CORS headers at all."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from horae.api.auth import element_token_given, read_element_token
from horae.api.errors import error_response
from horae.errors import PermissionDenied

# Elements send `Cronofy-Element` (and JSON bodies) on GETs and POSTs, so every call is preflighted.
ALLOW_METHODS = "GET, POST"
ALLOW_HEADERS = "content-type, cronofy-element"
MAX_AGE = "600"


class ElementCors:
    """Answers preflights for element-token requests from the token's origin, repeats that origin on the real
    response, and refuses (403, no CORS headers) a request whose Origin is another one. A request with no
    Origin (not from a browser page) is left to the token's own checks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not element_token_given(request):
            await self.app(scope, receive, send)
            return
        element = read_element_token(request)
        origin = request.headers.get("origin")
        allowed = element is not None and origin == element.origin
        if request.method == "OPTIONS":
            if not allowed:
                await _refused(scope, receive, send)
                return
            assert origin is not None
            headers = {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE,
                "Vary": "Origin",
            }
            await Response(status_code=204, headers=headers)(scope, receive, send)
            return
        if origin is None or element is None:
            # No page to answer to, or a token that is not genuine: the route's 401 says so, without CORS.
            await self.app(scope, receive, send)
            return
        if not allowed:
            await _refused(scope, receive, send)
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                varies = [value for name, value in headers if name.lower() == b"vary"]
                headers = [(n, v) for n, v in headers if n.lower() not in (b"vary", b"access-control-allow-origin")]
                headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
                headers.append((b"vary", b", ".join([*varies, b"Origin"])))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_origin)


async def _refused(scope: Scope, receive: Receive, send: Send) -> None:
    answer = error_response(PermissionDenied("this element token is for pages on another origin"))
    await answer(scope, receive, send)
