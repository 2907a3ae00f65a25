"""Push channels through the SDKs, unchanged, against a live `horae serve` (embedded: SQLite, worker
in-process): pycronofy's create/list/close_notification_channel and the Node SDK's
create/list/deleteNotificationChannel (tests/e2e/node/channels.mjs). A loopback receiver gets the
`verification` and `change` notifications, and the SDKs' own HMAC helpers (`hmac_valid`,
`hmacValid`) accept their `Cronofy-HMAC-SHA256` headers, also during a secret rotation.

The account, applications and tokens are made by an operator's container on the same database
(no browser); everything the SDKs do goes over HTTP."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pycronofy  # type: ignore[import-untyped]
import pytest
from pycronofy.exceptions import PyCronofyRequestError  # type: ignore[import-untyped]

from horae import bootstrap
from horae.container import Container
from horae.domain import scopes
from tests.conftest import fast_settings
from tests.e2e.node_sdk import run_script
from tests.e2e.processes import HoraeProcess, serve
from tests.integration.test_push_delivery import Received, Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("channels_sdk")]

WAIT_SECONDS = 20.0


@dataclass
class Live:
    server: HoraeProcess
    ops: Container
    receiver: Receiver


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str
    access_token: str


@dataclass(frozen=True)
class Account:
    """An account with two applications on it: `listener` makes channels, `changer` writes events."""

    sub: str
    calendar_id: str
    listener: App
    changer: App


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("channels-sdk")
    secret_key = base64.b64encode(os.urandom(32)).decode()
    server = serve(root / "data", root, name="channels-sdk", HORAE_SECRET_KEY=secret_key, HORAE_JOB_POLL_SECONDS="0.2")
    database_url = f"sqlite:///{(root / 'data' / 'horae.db').resolve()}"
    ops = bootstrap.build(fast_settings(root / "ops", database_url=database_url, secret_key=secret_key))
    receiver = Receiver()
    try:
        yield Live(server, ops, receiver)
    finally:
        server.stop()
        receiver.close()
        ops.uow.engine.dispose()  # type: ignore[attr-defined]


def new_account(live: Live, label: str) -> Account:
    person = live.ops.accounts.sign_up(f"{label}-{os.urandom(4).hex()}@example.test", "correct horse battery", label)
    sub = person.account.id

    def app(name: str) -> App:
        made = live.ops.applications.create(f"{label} {name}", ["https://app.example/cb"])
        grant = live.ops.oauth.issue_direct_grant(sub, made.application.id, scopes.ALL_SCOPES, 3600)
        return App(made.application.client_id, made.client_secret, grant.access_token)

    listener, changer = app("listener"), app("changer")
    with live.ops.uow() as uow:
        [calendar] = uow.calendars.for_account(sub)
    return Account(sub, calendar.id, listener, changer)


def sdk_client(live: Live, app: App, secret: str | None = None) -> Any:
    """pycronofy as shipped, with only its two base URLs pointed at Horae."""
    client = pycronofy.Client(
        client_id=app.client_id, client_secret=secret or app.client_secret, access_token=app.access_token
    )
    client.request_handler.base_url = live.server.url
    client.app_base_url = live.server.url
    return client


def notifications(live: Live, channel_id: str, kind: str, count: int = 1) -> list[Received]:
    """Wait (bounded) until `count` notifications of this kind for this channel have arrived."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = [r for r in live.receiver.of_type(kind) if r.json["channel"]["channel_id"] == channel_id]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} {kind} notifications for {channel_id} after {WAIT_SECONDS}s")
        time.sleep(0.1)


def external_change(live: Live, account: Account, event_id: str) -> None:
    """The other application writes an event: news to the listener."""
    changer = sdk_client(live, account.changer)
    changer.upsert_event(
        account.calendar_id,
        {
            "event_id": event_id,
            "summary": "Board meeting",
            "start": "2026-12-01T09:00:00Z",
            "end": "2026-12-01T10:00:00Z",
        },
    )


# --- pycronofy ---------------------------------------------------------------------------------------------------


def test_pycronofy_creates_lists_and_closes_channels_and_checks_signatures(live: Live) -> None:
    account = new_account(live, "py")
    client = sdk_client(live, account.listener)

    channel = client.create_notification_channel(live.receiver.url, calendar_ids=(account.calendar_id,))
    assert channel["channel_id"].startswith("chn_")
    assert channel == {
        "channel_id": channel["channel_id"],
        "callback_url": live.receiver.url,
        "filters": {"calendar_ids": [account.calendar_id]},
    }
    assert client.list_notification_channels() == [channel]

    [verification] = notifications(live, channel["channel_id"], "verification")
    assert verification.json == {"notification": {"type": "verification"}, "channel": channel}
    assert client.hmac_valid(verification.signature, verification.body.decode())

    external_change(live, account, "board-1")
    [change] = notifications(live, channel["channel_id"], "change")
    assert change.json["channel"] == channel
    assert change.json["notification"]["type"] == "change"
    assert change.json["notification"]["changes_since"].endswith("Z")
    assert client.hmac_valid(change.signature, change.body.decode())
    # What the notification tells the listener to do: read what changed since then.
    since = change.json["notification"]["changes_since"]
    changed = list(client.read_events(calendar_ids=(account.calendar_id,), last_modified=since))
    assert [e["summary"] for e in changed] == ["Board meeting"]
    outsider = pycronofy.Client(client_id="x", client_secret=account.changer.client_secret)
    assert not outsider.hmac_valid(change.signature, change.body.decode())

    # The listener's own writes are not news to it.
    client.upsert_event(
        account.calendar_id,
        {"event_id": "own", "summary": "Mine", "start": "2026-12-02T09:00:00Z", "end": "2026-12-02T10:00:00Z"},
    )
    external_change(live, account, "board-2")
    changes = notifications(live, channel["channel_id"], "change", 2)
    assert len(changes) == 2

    assert client.close_notification_channel(channel["channel_id"]) is None
    assert client.list_notification_channels() == []
    with pytest.raises(PyCronofyRequestError) as refused:
        client.close_notification_channel("chn_doesnotexist")
    assert refused.value.response.status_code == 404


def test_during_a_secret_rotation_both_secrets_verify_with_pycronofy(live: Live) -> None:
    account = new_account(live, "rotation")
    old_secret = account.listener.client_secret
    new_secret = live.ops.applications.rotate_secret(account.listener.client_id, timedelta(hours=1)).client_secret
    client = sdk_client(live, account.listener)
    channel = client.create_notification_channel(live.receiver.url)
    assert channel["filters"] == {}

    [verification] = notifications(live, channel["channel_id"], "verification")
    assert len(verification.signature.split(",")) == 2 and " " not in verification.signature
    for secret in (old_secret, new_secret):
        assert sdk_client(live, account.listener, secret).hmac_valid(verification.signature, verification.body.decode())
    client.close_notification_channel(channel["channel_id"])


# --- the Node SDK ----------------------------------------------------------------------------------------------


def node_steps(live: Live, app: App, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    config = {
        "api_url": live.server.url,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "access_token": app.access_token,
        "steps": steps,
    }
    results: list[dict[str, Any]] = run_script("channels.mjs", config)
    return results


def test_the_node_sdk_creates_lists_and_closes_channels_and_checks_signatures(live: Live) -> None:
    account = new_account(live, "node")
    filters = {"calendar_ids": [account.calendar_id], "only_managed": False}
    created, listing = node_steps(
        live,
        account.listener,
        [{"do": "create", "callback_url": live.receiver.url, "filters": filters}, {"do": "list"}],
    )
    assert not created["failed"], created
    channel = created["value"]["channel"]
    assert channel == {"channel_id": channel["channel_id"], "callback_url": live.receiver.url, "filters": filters}
    assert listing["value"] == {"channels": [channel]}

    [verification] = notifications(live, channel["channel_id"], "verification")
    external_change(live, account, "node-1")
    [change] = notifications(live, channel["channel_id"], "change")
    old_secret = account.listener.client_secret
    new_secret = live.ops.applications.rotate_secret(account.listener.client_id, timedelta(hours=1)).client_secret
    external_change(live, account, "node-2")
    rotated = notifications(live, channel["channel_id"], "change", 2)[1]
    assert len(rotated.signature.split(",")) == 2

    def hmac(received: Received, secret: str | None = None, body: bytes | None = None) -> dict[str, Any]:
        step = {"do": "hmac", "hmac": received.signature, "body": (body or received.body).decode()}
        return {**step, "client_secret": secret} if secret else step

    results = node_steps(
        live,
        account.listener,
        [
            hmac(verification),
            hmac(change),
            hmac(change, body=change.body.replace(b"change", b"chAnge")),
            hmac(change, secret=account.changer.client_secret),
            hmac(rotated, secret=old_secret),
            hmac(rotated, secret=new_secret),
            {"do": "close", "channel_id": channel["channel_id"]},
            {"do": "list"},
            {"do": "close", "channel_id": "chn_doesnotexist"},
        ],
    )
    assert [r["value"] for r in results[:6]] == [True, True, False, False, True, True]
    assert results[6]["failed"] is False
    assert results[7]["value"] == {"channels": []}
    assert results[8]["failed"] is True and results[8]["status"] == 404


def test_outside_development_mode_callbacks_must_be_https(tmp_path: Path) -> None:
    """With HORAE_DEV_MODE=false a loopback callback is refused (422), an https one accepted."""
    data_dir = tmp_path / "data"
    secret_key = base64.b64encode(os.urandom(32)).decode()
    server = serve(data_dir, tmp_path, name="prod-mode", HORAE_SECRET_KEY=secret_key, HORAE_DEV_MODE="false")
    ops = bootstrap.build(
        fast_settings(
            tmp_path / "ops", database_url=f"sqlite:///{(data_dir / 'horae.db').resolve()}", secret_key=secret_key
        )
    )
    try:
        live = Live(server, ops, Receiver())
        account = new_account(live, "prod")
        live.receiver.close()
        auth = {"Authorization": f"Bearer {account.listener.access_token}"}
        refused = httpx.post(f"{server.url}/v1/channels", json={"callback_url": "http://127.0.0.1:9/x"}, headers=auth)
        assert refused.status_code == 422
        assert list(refused.json()["errors"]) == ["callback_url"]
        accepted = httpx.post(
            f"{server.url}/v1/channels", json={"callback_url": "https://receiver.invalid/hook"}, headers=auth
        )
        assert accepted.status_code == 200, accepted.text
    finally:
        server.stop()
        ops.uow.engine.dispose()  # type: ignore[attr-defined]
