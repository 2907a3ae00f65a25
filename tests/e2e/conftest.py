"""Fixtures for the SDK end-to-end tests: a live `horae serve`, an application made with the CLI, a
loopback redirect target that records what the browser brings back, and Debian's Chromium driven
by Playwright through the authorize pages like a person would."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.processes import HORAE, HoraeProcess, base_env, serve

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The registered redirect URI: loopback, so any port matches it (RFC 8252 §7.3).
REGISTERED_REDIRECT_URI = "http://127.0.0.1/callback"
CALLBACK_PATH = "/callback"
BROWSER_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Application:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    password: str

    @classmethod
    def new(cls, label: str) -> Person:
        tag = uuid.uuid4().hex[:10]
        return cls(name=f"{label.title()} {tag}", email=f"{label}-{tag}@example.test", password=f"pw-{tag}-secret")


class CallbackRecorder:
    """A tiny loopback HTTP server standing in for the client's redirect endpoint: it answers
    every request with a small page and keeps the query of each visit to the callback path."""

    def __init__(self) -> None:
        self.visits: list[dict[str, str]] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == CALLBACK_PATH:
                    with recorder._lock:
                        recorder.visits.append(dict(parse_qsl(parts.query, keep_blank_values=True)))
                body = b"<!doctype html><title>Client callback</title><p>Back at the client.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="callback-recorder", daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def start(self) -> CallbackRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def visit_with_state(self, state: str) -> dict[str, str]:
        """The query of the one callback visit that carried this state."""
        with self._lock:
            found = [visit for visit in self.visits if visit.get("state") == state]
        assert len(found) == 1, f"expected one callback visit with state {state!r}, got {self.visits!r}"
        return found[0]


class AuthorizePages:
    """Drives the server's authorize pages in a fresh browser context (no cookies), as a person would."""

    def __init__(self, browser: Browser, callback: CallbackRecorder) -> None:
        self.browser = browser
        self.callback = callback
        self._contexts: list[BrowserContext] = []

    def open(self, authorize_url: str) -> Page:
        """A new context (a different browser profile) on the authorize URL, showing the login page."""
        context = self.browser.new_context()
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        response = page.goto(authorize_url)
        assert response is not None and response.status == 200, page.content()
        assert page.locator("#login-form").is_visible() and page.locator("#signup-form").is_visible()
        return page

    def sign_up(self, page: Page, person: Person) -> None:
        form = page.locator("#signup-form")
        form.locator("input[name=name]").fill(person.name)
        form.locator("input[name=email]").fill(person.email)
        form.locator("input[name=password]").fill(person.password)
        form.locator("button[type=submit]").click()
        self._expect_consent(page, person)

    def log_in(self, page: Page, person: Person, password: str | None = None) -> None:
        """Submit the login form; with the right password the consent page follows, with a wrong
        one the login page comes back with an alert."""
        form = page.locator("#login-form")
        form.locator("input[name=email]").fill(person.email)
        form.locator("input[name=password]").fill(password or person.password)
        form.locator("button[type=submit]").click()
        if password is None or password == person.password:
            self._expect_consent(page, person)
        else:
            page.get_by_role("alert").wait_for()

    def _expect_consent(self, page: Page, person: Person) -> None:
        page.locator("#allow").wait_for()
        assert page.get_by_text(f"Signed in as {person.email}.").is_visible()

    def decide(self, page: Page, decision: str, state: str) -> dict[str, str]:
        """Click Allow or Deny, let the browser follow the server's 303 to the redirect URI and
        return the query the client's callback received."""
        assert decision in ("allow", "deny")
        with page.expect_response(lambda r: urlsplit(r.url).path == "/oauth/authorize/decision") as answer:
            page.locator(f"#{decision}").click()
        assert answer.value.status == 303
        assert answer.value.headers["location"].startswith(f"{self.callback.redirect_uri}?")
        page.wait_for_url(lambda url: url.startswith(self.callback.redirect_uri))
        assert page.title() == "Client callback"
        visit = self.callback.visit_with_state(state)
        assert dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True)) == visit
        return visit

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts.clear()


@pytest.fixture(scope="session")
def horae_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HoraeProcess]:
    """`horae serve` with the embedded defaults: SQLite in its data dir, the worker in-process. Every SDK
    test shares one application, so its rate limits are lifted (tests/api covers the limits)."""
    data_dir = tmp_path_factory.mktemp("horae-e2e-data")
    log_dir = tmp_path_factory.mktemp("horae-e2e-logs")
    lifted = {"HORAE_RATE_LIMIT_PER_SECOND": "100000", "HORAE_RATE_LIMIT_PER_MINUTE": "1000000"}
    server = serve(data_dir, log_dir, name="sdk-e2e", **lifted)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def application(horae_server: HoraeProcess) -> Application:
    """An application created by the operator's CLI in the server's own data dir."""
    data_dir = Path(horae_server.env["HORAE_DATA_DIR"])
    result = subprocess.run(
        [*HORAE, "app", "create", "--name", "SDK e2e client", "--redirect-uri", REGISTERED_REDIRECT_URI],
        env=base_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return Application(client_id=values["client_id"], client_secret=values["client_secret"])


@pytest.fixture(scope="session")
def callback() -> Iterator[CallbackRecorder]:
    recorder = CallbackRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    executable = os.environ.get("HORAE_TEST_CHROMIUM") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def authorize_pages(browser: Browser, callback: CallbackRecorder) -> Iterator[AuthorizePages]:
    pages = AuthorizePages(browser, callback)
    yield pages
    pages.close()
