"""The WebhookSender port over httpx: one POST per call, a hard overall deadline, no redirects."""

from __future__ import annotations

import ipaddress
import time
from importlib import metadata
from urllib.parse import urlsplit

import httpx

from horae.ports import WebhookResponse

EXCERPT_BYTES = 1024


def _user_agent() -> str:
    try:
        version = metadata.version("horae")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        version = "0"
    return f"Horae/{version} (Cronofy-compatible callbacks)"


class HttpxWebhookSender:
    """POSTs callbacks with `Content-Type: application/json; charset=utf-8` and a `User-Agent`.

    Success is a 2xx that arrives within `timeout` seconds of the start, all phases together
    (connect, send, first bytes of the answer); a later 2xx is reported as a failure. Redirects are
    not followed (a 3xx is a failure), and only the first kilobyte of the answer is read.
    """

    def __init__(self, timeout: float = 5.0, client: httpx.Client | None = None, loopback_only: bool = False) -> None:
        self.timeout = timeout
        # Test rigs and air-gapped demos: never resolve or reach anything but this machine.
        self.loopback_only = loopback_only
        # No keep-alive: receivers are many and mostly idle, a pooled connection the receiver has
        # dropped would only fail an attempt, and nothing is left open when the sender is discarded.
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._headers = {"User-Agent": _user_agent(), "Content-Type": "application/json; charset=utf-8"}

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookResponse:
        started = time.monotonic()
        if self.loopback_only and not _names_loopback(url):
            return WebhookResponse(None, 0, "not sent: this server calls loopback addresses only")
        try:
            with self._client.stream("POST", url, content=body, headers={**self._headers, **headers}) as answer:
                excerpt = _read_excerpt(answer)
                status: int | None = answer.status_code
        except httpx.TimeoutException as exc:
            error = f"timed out after {self.timeout:g}s ({type(exc).__name__})"
            return WebhookResponse(None, _ms_since(started), error)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError) as exc:
            return WebhookResponse(None, _ms_since(started), f"{type(exc).__name__}: {exc}"[:1000])
        elapsed = _ms_since(started)
        if elapsed > self.timeout * 1000:
            return WebhookResponse(status, elapsed, f"answered after the {self.timeout:g}s deadline", excerpt)
        return WebhookResponse(status, elapsed, "", excerpt)

    def close(self) -> None:
        self._client.close()


def _names_loopback(url: str) -> bool:
    """Whether the URL's host is a loopback address or `localhost`, decided without any DNS lookup."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_excerpt(answer: httpx.Response) -> str:
    kept = b""
    for chunk in answer.iter_bytes():
        kept += chunk
        if len(kept) >= EXCERPT_BYTES:
            break
    return kept[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
