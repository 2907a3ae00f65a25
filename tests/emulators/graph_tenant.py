"""An emulated Microsoft 365 tenant for Enterprise Connect: applications an administrator registered (client id,
secret, and whether the application permission Calendars.ReadWrite was granted with admin consent), app-only
tokens from the client-credentials grant, and each person's mailbox under `/v1.0/users/{email}/...`.

Mirrors https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow and
https://learn.microsoft.com/graph/auth-v2-service. Each person is a GraphEmulator (tests/emulators/microsoft.py)
serving its routes under `/v1.0/users/{email}` and sharing the tenant's lock and token store, so its links
(`@odata.nextLink`, `@odata.deltaLink`) point back under the person's own path. Graph answers 401 for a missing or
expired token, 403 ErrorAccessDenied when the application lacks the permission, 404 ErrorInvalidUser for a person
the tenant does not have and 404 MailboxNotEnabledForRESTAPI for one without a mailbox.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators.common import LoggedRequest, TokenStore
from tests.emulators.graph_recurrence import graph_error
from tests.emulators.microsoft import AUTH_MESSAGES, GraphEmulator, aad_error

APP_SCOPE = "https://graph.microsoft.com/.default"
USERS_PATH = re.compile(r"^/v1\.0/users/(?P<user>[^/]+)(?P<rest>/.*)?$")
NO_MAILBOX = "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
DENIED = ("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
Scope = dict[str, Any]


class GraphTenantEmulator:
    """One tenant's identity platform and Graph; `app` is the ASGI app to serve, the other methods are test
    controls. Every change goes through `self.lock`, which the people's emulators share."""

    def __init__(self, domain: str = "example.com") -> None:
        self.lock = threading.RLock()
        self.tenant_id = str(uuid.uuid4())
        self.domain = domain.lower()
        self.tokens = TokenStore(access_ttl=3599)  # what Entra ID gives client credentials
        self.apps: dict[str, tuple[str, bool]] = {}  # client id -> (secret, permission granted)
        self.token_apps: dict[str, str] = {}  # access token -> the client id it was issued to
        self.people: dict[str, GraphEmulator] = {}  # by casefolded email
        self.without_mailbox: set[str] = set()
        self.broken: set[str] = set()
        self.requests: list[LoggedRequest] = []
        self.app = self  # served like the other emulators' `app` (an ASGI 3 callable: uvicorn needs __call__)
        self._identity = Starlette(routes=[Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"])])

    # -- test controls -------------------------------------------------------------------------------------
    def register_app(self, permission: bool = True) -> tuple[str, str]:
        """An application registered in the tenant with a client secret; `permission`: Calendars.ReadWrite
        (application) is granted with admin consent. Returns (client id, client secret)."""
        with self.lock:
            client_id, secret = str(uuid.uuid4()), f"s~{uuid.uuid4().hex}"
            self.apps[client_id] = (secret, permission)
            return client_id, secret

    def set_permission(self, client_id: str, permission: bool) -> None:
        """Grant or withdraw the application's Calendars.ReadWrite; tokens it already has follow at once."""
        with self.lock:
            self.apps[client_id] = (self.apps[client_id][0], permission)

    def add_person(self, email: str) -> GraphEmulator:
        """A person with a mailbox (a default calendar called "Calendar"); add events with the returned
        emulator's own helpers (`add_event`, `add_calendar`...)."""
        with self.lock:
            person = GraphEmulator(user_email=email, api_prefix=f"/v1.0/users/{email}")
            person.lock, person.tokens = self.lock, self.tokens  # the tenant's app-only tokens open every mailbox
            self.people[email.casefold()] = person
            return person

    def add_user_without_mailbox(self, email: str) -> None:
        """A person in the directory with no Exchange Online mailbox (Graph: 404 MailboxNotEnabledForRESTAPI)."""
        with self.lock:
            self.without_mailbox.add(email.casefold())

    def break_events(self, email: str) -> None:
        """That person's calendar list keeps working, but every calendarView (delta) answers 500."""
        with self.lock:
            self.broken.add(email.casefold())

    def mend_events(self, email: str) -> None:
        with self.lock:
            self.broken.discard(email.casefold())

    def expire_access_tokens(self) -> None:
        """Make every app-only token issued so far expired; Graph calls with them answer 401."""
        with self.lock:
            self.tokens.expire_access_tokens()

    def token_requests(self) -> list[LoggedRequest]:
        """The token endpoint calls logged so far."""
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/oauth2/v2.0/token")]

    # -- ASGI ----------------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        root = scope.get("root_path", "")
        path = scope["path"][len(root) :] if scope["path"].startswith(root) else scope["path"]
        with self.lock:
            self.log(Request(scope))
        if path == "/v1.0/me" or path.startswith("/v1.0/me/"):  # an app-only token signs nobody in
            message = "/me request is only valid with delegated authentication flow."
            await graph_error(400, "BadRequest", message)(scope, receive, send)
            return
        found = USERS_PATH.match(path)
        if found is None:
            await self._identity(scope, receive, send)
            return
        with self.lock:
            person, refusal = self._admit(Request(scope), unquote(found["user"]), found["rest"] or "")
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        assert person is not None
        # Route under the address the person was added with, whatever its case in the request.
        canonical = f"{root}{person.api_prefix}{found['rest'] or ''}"
        await person.app(dict(scope, path=canonical, raw_path=canonical.encode()), receive, send)

    def log(self, request: Request) -> None:
        self.requests.append(
            LoggedRequest(request.method, request.url.path, dict(request.query_params), time.monotonic())
        )

    def _admit(self, request: Request, email: str, rest: str) -> tuple[GraphEmulator | None, Response | None]:
        """The person a Graph call reaches, or the answer that refuses it: the token, then the application's
        permission, then the person and their mailbox."""
        status = self.tokens.access_status(request)
        if status != "ok":
            return None, graph_error(401, "InvalidAuthenticationToken", AUTH_MESSAGES[status])
        token = request.headers["authorization"].partition(" ")[2].strip()
        client_id = self.token_apps.get(token)
        if client_id is None or not self.apps[client_id][1]:
            return None, graph_error(403, *DENIED)
        key = email.casefold()
        if key in self.without_mailbox:
            return None, graph_error(404, "MailboxNotEnabledForRESTAPI", NO_MAILBOX)
        person = self.people.get(key)
        if person is None:
            return None, graph_error(404, "ErrorInvalidUser", f"The requested user '{email}' is invalid.")
        if key in self.broken and "/calendarView" in rest:
            return None, graph_error(500, "UnknownError", "An internal server error occurred.")
        return person, None

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        tenant = request.path_params["tenant"].lower()
        with self.lock:
            if tenant not in (self.tenant_id, self.domain):
                text = f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID."
                return aad_error(400, "invalid_request", 90002, text)
            if form.get("grant_type") != "client_credentials":
                return aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
            client_id = str(form.get("client_id", ""))
            if client_id not in self.apps:
                text = f"Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                return aad_error(400, "unauthorized_client", 700016, text)
            if form.get("client_secret") != self.apps[client_id][0]:
                text = "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                text += f"secret value, not the client secret ID, for a secret added to app '{client_id}'."
                return aad_error(401, "invalid_client", 7000215, text)
            if form.get("scope") != APP_SCOPE:
                text = "The provided value for scope is not valid. Client credential flows must have a scope value "
                text += "with /.default suffixed to the resource identifier (application ID URI)."
                return aad_error(400, "invalid_scope", 1002012, text)
            token = self.tokens.issue_access()
            self.token_apps[token] = client_id
            ttl = self.tokens.access_ttl
            return JSONResponse(
                {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token}
            )
