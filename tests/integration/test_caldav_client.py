"""The CalDAV client against a real Radicale: discovery, calendars, conditional writes, sync, multiget, errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from horae.providers.calendars.caldav_client import CalDAVClient
from horae.providers.calendars.caldav_errors import (
    AuthRejected,
    CalDAVError,
    PreconditionFailed,
    ServerBusy,
    SyncTokenInvalid,
    parse_retry_after,
)
from tests.radicale import Radicale, radicale

__all__ = ["radicale"]  # the session fixture, shared from tests/radicale.py


def vevent(uid: str, summary: str = "Planning", day: int = 1) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Horae//tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T090000Z\r\n"
        f"DTSTART:202612{day:02d}T100000Z\r\nDTEND:202612{day:02d}T110000Z\r\nSUMMARY:{summary}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        yield client


@pytest.fixture
def alice(radicale: Radicale, http: httpx.Client) -> CalDAVClient:
    return CalDAVClient(http, radicale.url, "alice", radicale.users["alice"])


@pytest.fixture
def calendar(alice: CalDAVClient) -> str:
    """A fresh calendar per test, so tests don't see each other's objects."""
    return alice.make_calendar(f"cal-{uuid.uuid4().hex[:8]}", "Work")


def test_discovery_follows_well_known_to_the_principal_and_home(alice: CalDAVClient) -> None:
    assert alice.principal() == "/alice/"
    assert alice.home() == "/alice/"


def test_make_calendar_is_listed_with_its_properties(alice: CalDAVClient) -> None:
    href = alice.make_calendar("listed", "Listed calendar")
    assert href == "/alice/listed/"
    found = {c.href: c for c in alice.calendars()}
    listed = found[href]
    assert listed.name == "Listed calendar"
    assert listed.holds_events
    assert not listed.read_only
    assert listed.ctag and listed.sync_token
    with pytest.raises(CalDAVError):
        alice.make_calendar("listed", "Again")  # the collection already exists


def test_put_creates_then_replaces_only_with_the_current_etag(alice: CalDAVClient, calendar: str) -> None:
    href = calendar + "ev-1.ics"
    first = alice.put(href, vevent("ev-1"))
    assert first.startswith('"')
    with pytest.raises(PreconditionFailed):
        alice.put(href, vevent("ev-1", "Clash"))  # If-None-Match: * on an existing object
    second = alice.put(href, vevent("ev-1", "Moved"), etag=first)
    assert second != first
    with pytest.raises(PreconditionFailed):
        alice.put(href, vevent("ev-1", "Stale"), etag=first)
    etag, text = alice.fetch(calendar, [href])[href]
    assert etag == second
    assert "SUMMARY:Moved" in text


def test_sync_from_nothing_then_only_the_changes_since_the_token(alice: CalDAVClient, calendar: str) -> None:
    etags = {name: alice.put(f"{calendar}{name}.ics", vevent(name)) for name in ("a", "b", "c")}
    everything = alice.sync(calendar, None)
    assert everything.changed == {f"{calendar}{name}.ics": etag for name, etag in etags.items()}
    assert everything.deleted == []
    assert everything.token and not everything.truncated

    changed = alice.put(f"{calendar}a.ics", vevent("a", "Changed"), etag=etags["a"])
    alice.delete(f"{calendar}b.ics", etag=etags["b"])
    since = alice.sync(calendar, everything.token)
    assert since.changed == {f"{calendar}a.ics": changed}
    assert since.deleted == [f"{calendar}b.ics"]
    assert since.token != everything.token
    assert alice.sync(calendar, since.token).changed == {}


def test_an_unknown_sync_token_asks_for_a_full_listing(alice: CalDAVClient, calendar: str) -> None:
    alice.put(calendar + "x.ics", vevent("x"))
    with pytest.raises(SyncTokenInvalid):
        alice.sync(calendar, "http://radicale.org/ns/sync/" + "0" * 64)


def test_list_etags_names_every_object_but_not_the_calendar(alice: CalDAVClient, calendar: str) -> None:
    assert alice.list_etags(calendar) == {}
    etags = {f"{calendar}{n}.ics": alice.put(f"{calendar}{n}.ics", vevent(n)) for n in ("p", "q")}
    assert alice.list_etags(calendar) == etags


def test_multiget_returns_etags_and_text_and_leaves_out_missing_objects(alice: CalDAVClient, calendar: str) -> None:
    one = alice.put(calendar + "one.ics", vevent("one", "First", day=1))
    two = alice.put(calendar + "two.ics", vevent("two", "Second", day=2))
    fetched = alice.fetch(calendar, [calendar + "one.ics", calendar + "two.ics", calendar + "gone.ics"])
    assert set(fetched) == {calendar + "one.ics", calendar + "two.ics"}
    assert fetched[calendar + "one.ics"][0] == one
    assert "SUMMARY:First" in fetched[calendar + "one.ics"][1]
    assert fetched[calendar + "two.ics"][0] == two
    assert alice.fetch(calendar, []) == {}


def test_delete_is_conditional_and_idempotent(alice: CalDAVClient, calendar: str) -> None:
    href = calendar + "doomed.ics"
    etag = alice.put(href, vevent("doomed"))
    with pytest.raises(PreconditionFailed):
        alice.delete(href, etag='"not-the-etag"')
    alice.delete(href, etag=etag)
    alice.delete(href, etag=etag)  # a retry after the object went: still fine
    alice.delete(href)
    assert alice.list_etags(calendar) == {}


def test_a_wrong_password_is_rejected(radicale: Radicale, http: httpx.Client) -> None:
    wrong = CalDAVClient(http, radicale.url, "alice", "not-her-password")
    with pytest.raises(AuthRejected) as raised:
        wrong.calendars()
    assert raised.value.status == 401


def test_another_users_calendar_is_forbidden_but_not_an_auth_failure(
    radicale: Radicale, http: httpx.Client, calendar: str
) -> None:
    bob = CalDAVClient(http, radicale.url, "bob", radicale.users["bob"])
    with pytest.raises(CalDAVError) as raised:
        bob.list_etags(calendar)
    assert raised.value.status == 403
    assert not isinstance(raised.value, AuthRejected)


# Retry-After and the fallbacks are unit-tested against a mock transport: no server needed.


def busy_client(status: int, headers: dict[str, str]) -> CalDAVClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, headers=headers, text="slow down"))
    return CalDAVClient(httpx.Client(transport=transport), "https://dav.example.com/dav/", "u", "p")


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, "120", 120), (503, None, None), (503, "soon", None), (429, "Thu, 01 Jan 2015 00:00:00 GMT", 0)],
)
def test_busy_answers_carry_retry_after(status: int, retry_after: str | None, expected: int | None) -> None:
    client = busy_client(status, {"Retry-After": retry_after} if retry_after else {})
    with pytest.raises(ServerBusy) as raised:
        client.delete("/dav/cal/x.ics")
    assert raised.value.status == status
    assert raised.value.retry_after_seconds == expected


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 01 Dec 2026 09:01:30 GMT", now=now) == 90
    assert parse_retry_after("Tue, 01 Dec 2026 08:00:00 GMT", now=now) == 0
    assert parse_retry_after(" 7 ", now=now) == 7
    assert parse_retry_after("", now=now) is None


def test_other_errors_carry_status_and_an_excerpt() -> None:
    client = busy_client(500, {})
    with pytest.raises(CalDAVError) as raised:
        client.delete("/dav/cal/x.ics")
    assert (raised.value.status, raised.value.excerpt) == (500, "slow down")
    assert not isinstance(raised.value, ServerBusy)


def test_put_asks_for_the_etag_when_the_server_omits_it() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if request.method == "PUT":
            assert request.headers["If-None-Match"] == "*"
            return httpx.Response(201)
        body = (
            '<?xml version="1.0"?><multistatus xmlns="DAV:"><response><href>/dav/cal/x.ics</href>'
            '<propstat><prop><getetag>"v2"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat>'
            "</response></multistatus>"
        )
        return httpx.Response(207, text=body)

    client = CalDAVClient(httpx.Client(transport=httpx.MockTransport(answer)), "https://dav.example.com/", "u", "p")
    assert client.put("/dav/cal/x.ics", vevent("x")) == '"v2"'
    assert seen == ["PUT", "PROPFIND"]


def test_unreachable_servers_raise_a_caldav_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = CalDAVClient(httpx.Client(transport=httpx.MockTransport(refuse)), "https://dav.example.com/", "u", "p")
    with pytest.raises(CalDAVError) as raised:
        client.calendars()
    assert raised.value.status is None
