"""Small builders for tests: applications, people, and the authorize flow driven through forms."""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests  # type: ignore[import-untyped]
from fastapi.testclient import TestClient

from horae.container import Container
from horae.ports import WebhookResponse
from horae.services.applications import NewCredentials
from horae.services.oauth import TokenGrant

REDIRECT = "https://client.example/callback"


@dataclass(frozen=True)
class Connected:
    """A person's account connected to an application, with its tokens."""

    app: NewCredentials
    sub: str
    tokens: TokenGrant

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.access_token}"}


def make_app(container: Container, name: str = "Test app", redirect: str = REDIRECT) -> NewCredentials:
    return container.applications.create(name, [redirect])


def authorize(container: Container, app: NewCredentials, account_id: str, scope: str = "read_write") -> Connected:
    """The account authorizes the application (a code issued and exchanged), skipping the browser."""
    request = container.oauth.check_authorize(
        {"client_id": app.application.client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": scope}
    )
    code = container.oauth.issue_code(request, account_id)
    tokens = container.oauth.exchange_code(app.application.client_id, app.client_secret, code, REDIRECT)
    return Connected(app, account_id, tokens)


def connect(container: Container, email: str = "ada@example.com", scope: str = "read_write") -> Connected:
    """An application and an account authorized to it, skipping the browser."""
    app = make_app(container)
    person = container.accounts.sign_up(email, "correct horse battery", "Ada")
    return authorize(container, app, person.account.id, scope)


def also_authorize(container: Container, who: Connected, name: str = "Other app") -> Connected:
    """A second application authorized for the same account."""
    return authorize(container, make_app(container, name), who.sub)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)


def authorize_query(app: NewCredentials, scope: str = "read_events create_event", state: str = "xyz") -> str:
    params = {
        "response_type": "code",
        "client_id": app.application.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
    }
    return urlencode(params)


def sign_up_and_consent(client: TestClient, app: NewCredentials, email: str, decision: str = "allow") -> dict[str, str]:
    """Drive the authorize pages with form posts as a browser would; returns the redirect's query."""
    query = authorize_query(app)
    page = client.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    form = {"email": email, "password": "correct horse battery", "name": "Ada", "query": query}
    signed = client.post(
        "/oauth/authorize/signup", data={**form, "csrf_token": csrf_of(page.text)}, follow_redirects=True
    )
    assert signed.status_code == 200 and "would like to" in signed.text, signed.text
    answer = client.post(
        "/oauth/authorize/decision",
        data={"decision": decision, "query": query, "csrf_token": csrf_of(signed.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


OK = WebhookResponse(200, 3, "", "ok")


@dataclass(frozen=True)
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class RecordingSender:
    """Stands in for the HTTP sender: keeps every POST and answers from a script (then 200)."""

    answers: deque[WebhookResponse] = field(default_factory=deque)
    sent: list[Sent] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        self.sent.append(Sent(url, body, dict(headers)))
        return self.answers.popleft() if self.answers else OK

    def of_type(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.json["notification"]["type"] == kind]


class PycronofyViaTestClient:
    """pycronofy calls `requests.get/post/delete(url=..., hooks=..., headers=..., json=..., params=...)` (looked
    up with `__getattribute__`); this answers them through the in-process test client instead. Like
    `requests`, it leaves out parameters whose value is None, and it offers `requests.exceptions` for
    pycronofy's error handling."""

    exceptions = requests.exceptions

    def __init__(self, client: TestClient) -> None:
        self._client = client

    def _send(self, method: str, url: str, headers: Any, json: Any, params: Any) -> Any:
        kept = {k: v for k, v in (params or {}).items() if v is not None}
        answer = self._client.request(method, url, headers=headers, json=json, params=kept)
        answer.raise_for_status = lambda: _raise_like_requests(answer)  # type: ignore[method-assign]
        return answer

    def get(self, url: str, hooks: Any = None, headers: Any = None, json: Any = None, params: Any = None) -> Any:
        return self._send("GET", url, headers, json, params)

    def post(self, url: str, hooks: Any = None, headers: Any = None, json: Any = None, params: Any = None) -> Any:
        return self._send("POST", url, headers, json, params)

    def delete(self, url: str, hooks: Any = None, headers: Any = None, json: Any = None, params: Any = None) -> Any:
        return self._send("DELETE", url, headers, json, params)


def _raise_like_requests(answer: Any) -> None:
    if answer.status_code >= 400:
        raise requests.exceptions.HTTPError(f"{answer.status_code}: {answer.text[:300]}", response=answer)
