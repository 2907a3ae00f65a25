"""A sender told to call loopback only never reaches (or even looks up) anything else."""

from __future__ import annotations

import httpx
import pytest

from horae.adapters.webhooks import HttpxWebhookSender


def _client_that_must_not_be_used() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"the sender tried to reach {request.url}")

    return httpx.Client(transport=httpx.MockTransport(refuse))


@pytest.mark.parametrize(
    "url", ["https://example.com/hook", "http://10.0.0.1/hook", "https://[2001:db8::1]/x", "http://127.0.0.1.evil.com/"]
)
def test_other_hosts_are_not_called(url: str) -> None:
    sender = HttpxWebhookSender(client=_client_that_must_not_be_used(), loopback_only=True)
    answer = sender.post(url, b"{}", {})
    assert answer.status_code is None and "loopback" in answer.error


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/", "http://a.localhost/"]
)
def test_loopback_hosts_are_called(url: str) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    sender = HttpxWebhookSender(client=httpx.Client(transport=httpx.MockTransport(answer)), loopback_only=True)
    assert sender.post(url, b"{}", {}).status_code == 204
    assert seen == [url]
