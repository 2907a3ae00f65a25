"""Browser-like steps for the account-security tests: signing in through the pages, setting up two-step
sign-in, reading the signed session cookie."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote

import httpx
import pyotp
from fastapi.testclient import TestClient

from tests.fakes import FakeClock
from tests.helpers import csrf_of

PASSWORD = "correct horse battery"
GUARDED = "/dashboard/security"


def new_browser(client: TestClient) -> TestClient:
    """Another browser (its own cookies) on the same app."""
    return TestClient(client.app, base_url=str(client.base_url))


def password_login(client: TestClient, email: str, password: str = PASSWORD, next_url: str = GUARDED) -> httpx.Response:
    """The /login form posted as a browser would; the answer is not followed."""
    page = client.get(f"/login?next={quote(next_url, safe='')}", follow_redirects=False)
    token = csrf_of(page.text) if page.status_code == 200 else str(session_of(client).get("csrf", ""))
    form = {"email": email, "password": password, "next": next_url, "csrf_token": token}
    return client.post("/login", data=form, follow_redirects=False)


def submit_code(client: TestClient, code: str) -> httpx.Response:
    page = client.get("/login/mfa", follow_redirects=False)
    assert page.status_code == 200, page.text
    return client.post("/login/mfa", data={"code": code, "csrf_token": csrf_of(page.text)}, follow_redirects=False)


def signed_in(client: TestClient) -> bool:
    """Whether a dashboard page opens (rather than sending the browser to sign in)."""
    response = client.get(GUARDED, follow_redirects=False)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    answer = password_login(client, email, password)
    assert (answer.status_code, answer.headers["location"]) == (303, GUARDED), answer.text
    assert signed_in(client)


def alert(html: str) -> str:
    found = re.findall(r'role="alert"[^>]*>([^<]*)<', html)
    return " | ".join(found)


def session_of(client: TestClient) -> dict[str, Any]:
    """The browser's cookie session, decoded (it is signed, not encrypted)."""
    cookie = client.cookies.get("horae_session")
    if not cookie:
        return {}
    payload = cookie.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def code_now(secret: str, clock: FakeClock) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def enrol(client: TestClient, clock: FakeClock) -> tuple[str, list[str]]:
    """Set up two-step sign-in through the Security page of a signed-in browser; returns the secret as the
    page shows it and the recovery codes. The clock then moves to the next step, so that the code typed to
    confirm is not replayed by the next sign-in."""
    page = client.get(GUARDED)
    started = client.post("/dashboard/security/mfa/start", data={"csrf_token": csrf_of(page.text)})
    assert started.status_code == 200, started.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]{32})<', started.text)
    assert secret, started.text
    form = {"code": code_now(secret.group(1), clock), "csrf_token": csrf_of(started.text)}
    confirmed = client.post("/dashboard/security/mfa/confirm", data=form)
    assert confirmed.status_code == 200 and 'id="mfa-on-now"' in confirmed.text, confirmed.text
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", confirmed.text)
    assert len(codes) == 10
    clock.advance(seconds=30)
    return secret.group(1), codes
