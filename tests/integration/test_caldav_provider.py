"""The CalDAV provider against a real Radicale (through the contract rig) and, for what Radicale never does
(truncated syncs, no sync support, iCloud's layout, unreadable objects), against a scripted server."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.recurrence_rules import EXCEPTIONS
from horae.errors import (
    InvalidRequest,
    ProviderAuthRejected,
    ProviderError,
    ProviderUnavailable,
    SyncCursorExpired,
)
from horae.ports import Connection
from horae.providers.calendars.caldav import CalDAVProvider, canonical_href
from horae.providers.calendars.ical import parse_calendar
from tests.contract.rig_caldav import CalDAVRig, make_rig
from tests.radicale import Radicale, running_radicale

WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
LOOPBACK = {"timeout_seconds": "5", "allow_loopback": "True"}
BERLIN = ZoneInfo("Europe/Berlin")
UNREACHABLE, INVALID_URL = ("server_url", "errors.unreachable"), ("server_url", "errors.invalid_url")


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[CalDAVRig]:
    with make_rig(request) as made:
        assert isinstance(made, CalDAVRig)
        yield made


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Radicale:
    return running_radicale(request.config)


def at(day: int, hour: int, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def horae_event(summary: str = "Planning", **values: object) -> Event:
    now = datetime(2026, 11, 20, 8, tzinfo=UTC)
    event = Event(f"evr_{uuid.uuid4().hex[:8]}", "cal_1", "acc_1", f"evt_{uuid.uuid4().hex}", summary, False, now, now)
    event.starts_at, event.ends_at = at(3, 10), at(3, 11)
    for name, value in values.items():
        setattr(event, name, value)
    return event


def listed(rig: CalDAVRig, cursor: str | None = None) -> dict[str, str]:
    changes = rig.provider.changes(rig.conn, rig.calendar_id, cursor, WINDOW)
    return {item.remote_id: item.event.summary for item in changes.items}


# --- calendars -------------------------------------------------------------------------------------------


def test_calendars_are_listed_with_a_primary_and_created_with_a_unique_slug(rig: CalDAVRig) -> None:
    found = rig.provider.calendars(rig.conn)
    assert [(c.remote_id, c.name, c.readonly, c.primary) for c in found] == [
        (rig.calendar_id, "Contract calendar", False, True)
    ]
    home = rig.provider.create_calendar(rig.conn, "Home", "#FF8800")
    again = rig.provider.create_calendar(rig.conn, "Home", None)
    assert home.remote_id == rig.calendar_id.rsplit("/", 2)[0] + "/home/"
    assert home.remote_id and again.remote_id and again.remote_id.startswith(home.remote_id.rstrip("/") + "-")
    by_id = {c.remote_id: c for c in rig.provider.calendars(rig.conn)}
    assert by_id[home.remote_id].primary and by_id[home.remote_id].color == "#FF8800"
    assert not by_id[rig.calendar_id].primary  # a calendar named like the default one wins


# --- reading ---------------------------------------------------------------------------------------------


def test_a_full_listing_then_only_the_changes_since_its_cursor(rig: CalDAVRig) -> None:
    first = rig.add("First", at(2, 9), at(2, 10))
    second = rig.add("Second", date(2026, 12, 24), date(2026, 12, 25))
    rig.add("Long ago", at(2, 9, month=1), at(2, 10, month=1))
    full = rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW)
    assert full.complete and full.cursor and full.removed == []
    assert {i.remote_id: i.event.summary for i in full.items} == {first: "First", second: "Second"}
    assert all(i.etag for i in full.items)

    rig.change(first, "First, renamed")
    rig.remove(second)
    third = rig.add("Third", at(5, 9), at(5, 10))
    since = rig.provider.changes(rig.conn, rig.calendar_id, full.cursor, WINDOW)
    assert not since.complete and since.cursor not in (None, full.cursor)
    assert {i.remote_id: i.event.summary for i in since.items} == {first: "First, renamed", third: "Third"}
    assert since.removed == [second]
    quiet = rig.provider.changes(rig.conn, rig.calendar_id, since.cursor, WINDOW)
    assert (quiet.items, quiet.removed, quiet.complete) == ([], [], False)


def test_a_series_reads_back_with_its_moved_and_cancelled_instances(rig: CalDAVRig) -> None:
    start = datetime(2026, 12, 7, 9, tzinfo=BERLIN)
    series = rig.add("Standup", start, start + timedelta(minutes=15), "Europe/Berlin", "FREQ=DAILY;COUNT=5")
    rig.cancel_instance(series, start + timedelta(days=2))
    moved_to = datetime(2026, 12, 10, 14, tzinfo=BERLIN)
    rig.move_instance(series, start + timedelta(days=3), moved_to, moved_to + timedelta(minutes=30))
    [item] = rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW).items
    event = item.event
    assert (item.remote_id, event.summary, event.start.tzid) == (series, "Standup", "Europe/Berlin")
    assert event.start.instant == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert event.recurrence == {"rrule": "FREQ=DAILY;COUNT=5"}
    assert event.cancelled == (recurrence.key_of(datetime(2026, 12, 9, 8, tzinfo=UTC)),)
    [override] = event.overrides
    assert override.key == recurrence.key_of(datetime(2026, 12, 10, 8, tzinfo=UTC))
    assert override.start is not None and override.start.instant == datetime(2026, 12, 10, 13, tzinfo=UTC)


def test_full_listings_keep_series_begun_before_the_window_and_drop_what_lies_outside(rig: CalDAVRig) -> None:
    old_series = rig.add("Weekly", at(1, 9, month=6), at(1, 10, month=6), rrule="FREQ=WEEKLY")
    rig.add("Later series", at(1, 9, month=5, year=2027), at(1, 10, month=5, year=2027), rrule="FREQ=DAILY")
    edge = rig.add("Ends as the window starts", at(31, 23, month=10), at(1, 0, month=11))
    all_day = rig.add("First day", date(2026, 11, 1), date(2026, 11, 2))
    assert set(listed(rig)) == {old_series, all_day}
    assert edge not in listed(rig)


def test_an_unknown_sync_token_is_an_expired_cursor(rig: CalDAVRig) -> None:
    with pytest.raises(SyncCursorExpired):
        rig.provider.changes(rig.conn, rig.calendar_id, "http://radicale.org/ns/sync/" + "0" * 64, WINDOW)


# --- writing ---------------------------------------------------------------------------------------------


def test_create_update_recreate_and_overwrite_a_stale_etag(rig: CalDAVRig) -> None:
    event = horae_event("Planning")
    created = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    assert created.remote_id == rig.calendar_id + event.event_uid + ".ics"
    assert created.etag and rig.summary_of(created.remote_id) == "Planning"

    event.summary = "Planning, moved"
    updated = rig.provider.write_event(rig.conn, rig.calendar_id, event, created.remote_id, created.etag)
    assert updated.remote_id == created.remote_id and updated.etag != created.etag

    # A retry of the first write (its answer was lost): still one object, now as Horae has it.
    event.summary = "Planning, retried"
    again = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    assert again.remote_id == created.remote_id
    assert listed(rig) == {created.remote_id: "Planning, retried"}

    rig.change(created.remote_id, "Changed in the person's app")
    event.summary = "Horae wins"
    last = rig.provider.write_event(rig.conn, rig.calendar_id, event, again.remote_id, again.etag)
    assert rig.summary_of(created.remote_id) == "Horae wins"
    [item] = rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW).items
    assert (item.etag, item.event.uid) == (last.etag, event.event_uid)


def test_a_written_series_reads_back_with_its_exceptions(rig: CalDAVRig) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    cancelled = recurrence.key_of(at(4, 10))
    event = horae_event(
        "Daily",
        start_tzid="Europe/Berlin",
        end_tzid="Europe/Berlin",
        recurrence={"rrule": "FREQ=DAILY;COUNT=3"},
        details={EXCEPTIONS: {cancelled: recurrence.cancelled_exception(now, None)}},
    )
    written = rig.provider.write_event(rig.conn, rig.calendar_id, event, None, None)
    [item] = rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW).items
    assert (item.remote_id, item.etag) == (written.remote_id, written.etag)
    assert item.event.recurrence == {"rrule": "FREQ=DAILY;COUNT=3"}
    assert item.event.cancelled == (cancelled,)


def test_writing_someone_elses_object_keeps_its_uid(rig: CalDAVRig) -> None:
    theirs = rig.add("Theirs", at(2, 9), at(2, 10))
    uid = theirs.rsplit("/", 1)[-1].removesuffix(".ics")
    event = horae_event("Renamed in Horae")
    written = rig.provider.write_event(rig.conn, rig.calendar_id, event, theirs, None)
    assert written.remote_id == theirs
    [remote] = parse_calendar(rig.http.get(theirs).text)
    assert (remote.uid, remote.summary) == (uid, "Renamed in Horae")


def test_delete_is_idempotent_and_wins_over_a_stale_etag(rig: CalDAVRig) -> None:
    written = rig.provider.write_event(rig.conn, rig.calendar_id, horae_event(), None, None)
    rig.change(written.remote_id, "Changed meanwhile")
    rig.provider.delete_event(rig.conn, rig.calendar_id, written.remote_id, written.etag)
    assert rig.summary_of(written.remote_id) is None
    rig.provider.delete_event(rig.conn, rig.calendar_id, written.remote_id, written.etag)
    rig.provider.delete_event(rig.conn, rig.calendar_id, written.remote_id, None)


# --- failures --------------------------------------------------------------------------------------------


def test_refused_credentials_and_a_busy_server(rig: CalDAVRig) -> None:
    rig.break_auth()
    calls: list[Callable[[], object]] = [
        lambda: rig.provider.calendars(rig.conn),
        lambda: rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW),
        lambda: rig.provider.write_event(rig.conn, rig.calendar_id, horae_event(), None, None),
    ]
    for call in calls:
        with pytest.raises(ProviderAuthRejected) as refused:
            call()
        assert rig.password not in str(refused.value)
    rig.restore_auth()
    rig.throttle(7)
    with pytest.raises(ProviderUnavailable) as busy:
        rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW)
    assert busy.value.retry_after_seconds == 7
    assert rig.provider.changes(rig.conn, rig.calendar_id, None, WINDOW).complete


def test_an_unreachable_server_is_unavailable() -> None:
    provider = CalDAVProvider(LOOPBACK)
    conn = Connection("pro_1", {"server_url": "http://127.0.0.1:9", "username": "u"}, {"password": "pw"})
    with pytest.raises(ProviderUnavailable):
        provider.changes(conn, "/u/cal/", None, WINDOW)
    provider.close()


# --- linking ---------------------------------------------------------------------------------------------


def test_link_finds_the_account_and_keeps_the_url_that_worked(server: Radicale) -> None:
    provider = CalDAVProvider(LOOPBACK)
    linked = provider.link({"server_url": server.url + "/not/a/caldav/path/", "username": "bob", "password": "bobpw"})
    assert linked.profile_name == "bob"
    assert linked.settings == {"server_url": server.url + "/", "username": "bob", "preset": ""}
    assert linked.secrets == {"password": "bobpw"}
    assert (linked.provider_name, linked.provider_service) == (None, None)
    conn = Connection("pro_bob", linked.settings, linked.secrets)
    assert isinstance(provider.calendars(conn), list)
    provider.close()


def link_error(provider: CalDAVProvider, form: dict[str, str]) -> tuple[str, str, str]:
    with pytest.raises(InvalidRequest) as raised:
        provider.link(form)
    [(field, [error])] = raised.value.errors.items()
    return field, error.key, error.description


def problem(provider: CalDAVProvider, **form: str) -> tuple[str, str]:
    return link_error(provider, form)[:2]


def test_link_explains_what_is_wrong(server: Radicale) -> None:
    provider = CalDAVProvider(LOOPBACK)
    field, key, words = link_error(provider, {"server_url": server.url, "username": "alice", "password": "nope"})
    assert (field, key) == ("password", "errors.credentials_rejected") and "nope" not in words
    assert problem(provider, server_url="http://127.0.0.1:9/", username="a", password="b") == UNREACHABLE
    assert problem(provider, server_url="ftp://example.com", username="a", password="b") == INVALID_URL
    assert problem(provider, server_url=server.url, username="", password="b") == ("username", "errors.required")
    assert problem(provider, preset="yahoo", username="a", password="b")[0] == "preset"
    provider.close()
    strict = CalDAVProvider({"timeout_seconds": "5", "allow_loopback": "False"})
    for url in (server.url, "http://localhost:5232/", "https://10.1.2.3/dav/", "http://[::1]/"):
        assert problem(strict, server_url=url, username="a", password="b") == INVALID_URL
    strict.close()


# --- a scripted server: what Radicale never does -----------------------------------------------------------


def multistatus(*responses: str, token: str | None = None) -> httpx.Response:
    sync = f"<d:sync-token>{token}</d:sync-token>" if token is not None else ""
    body = '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    body += "".join(responses) + sync + "</d:multistatus>"
    return httpx.Response(207, text=body, headers={"Content-Type": "application/xml"})


def ok(href: str, props: str) -> str:
    return (
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )


def ics(uid: str, summary: str, extra: str = "") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\n{extra}END:VCALENDAR\r\n"
    )


def scripted(answer: Callable[[httpx.Request], httpx.Response]) -> tuple[CalDAVProvider, Connection]:
    provider = CalDAVProvider(LOOPBACK, transport=httpx.MockTransport(answer))
    return provider, Connection("pro_1", {"server_url": "https://dav.example.com/", "username": "u"}, {"password": "p"})


def multiget(request: httpx.Request, objects: dict[str, str]) -> httpx.Response:
    asked = re.findall(r"<(?:\w+:)?href>([^<]*)</", request.content.decode())
    return multistatus(
        *(
            ok(href, f'<d:getetag>"{href}"</d:getetag><c:calendar-data>{objects[href]}</c:calendar-data>')
            for href in asked
            if href in objects
        )
    )


def test_truncated_sync_answers_are_followed_and_bad_objects_skipped(caplog: pytest.LogCaptureFixture) -> None:
    second_event = ics(
        "b", "Second", "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20261203T090000Z\r\nSUMMARY:X\r\nEND:VEVENT\r\n"
    )
    objects = {"/cal/a.ics": ics("a", "First"), "/cal/b.ics": second_event, "/cal/bad.ics": "BEGIN:VCALENDAR\r\nno"}
    rounds: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        if "sync-collection" in body:
            token = re.search(r"sync-token\s*(?:/>|>([^<]*)<)", body).group(1) or ""  # type: ignore[union-attr]
            rounds.append(token)
            if token == "":
                return multistatus(
                    ok("/cal/a.ics", '<d:getetag>"1"</d:getetag>'),
                    "<d:response><d:href>/cal/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status>"
                    "</d:response>",
                    token="t1",
                )
            return multistatus(
                ok("/cal/b.ics", '<d:getetag>"2"</d:getetag>'),
                ok("/cal/bad.ics", '<d:getetag>"3"</d:getetag>'),
                token="t2",
            )
        return multiget(request, objects)

    provider, conn = scripted(answer)
    changes = provider.changes(conn, "/cal/", None, WINDOW)
    assert rounds == ["", "t1"]
    assert changes.cursor == "t2" and changes.complete
    assert [(i.remote_id, i.event.uid) for i in changes.items] == [("/cal/a.ics", "a"), ("/cal/b.ics", "b")]
    assert "unreadable" in caplog.text and "several UIDs" in caplog.text


def test_without_sync_support_every_object_is_listed_and_no_cursor_offered() -> None:
    objects = {"/cal/a%40x.ics": ics("a@x", "First")}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "REPORT" and b"sync-collection" in request.content:
            return httpx.Response(501, text="not implemented")
        if request.method == "PROPFIND":
            return multistatus(
                ok("/cal/", "<d:resourcetype><d:collection/></d:resourcetype>"),
                ok("/cal/a%40x.ics", '<d:resourcetype/><d:getetag>"1"</d:getetag>'),
            )
        return multiget(request, objects)

    provider, conn = scripted(answer)
    changes = provider.changes(conn, "/cal/", None, WINDOW)
    assert (changes.cursor, changes.complete) == (None, True)
    assert [i.remote_id for i in changes.items] == [canonical_href("/cal/a%40x.ics")] == ["/cal/a@x.ics"]


def icloud(request: httpx.Request) -> httpx.Response:
    if request.headers.get("authorization") != "Basic " + base64.b64encode(b"me@icloud.com:app-pw").decode():
        return httpx.Response(401)
    path, host = request.url.path, request.url.host
    if path == "/.well-known/caldav":
        return httpx.Response(301, headers={"Location": "https://caldav.icloud.com/"})
    if host == "caldav.icloud.com" and path == "/":
        return multistatus(
            ok("/", "<d:current-user-principal><d:href>/123/principal/</d:href></d:current-user-principal>")
        )
    if path == "/123/principal/":
        home = (
            "<c:calendar-home-set><d:href>https://p07-caldav.icloud.com/123/calendars/</d:href></c:calendar-home-set>"
        )
        return multistatus(ok(path, home))
    if host == "p07-caldav.icloud.com" and path == "/123/calendars/":
        kind = "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        return multistatus(
            ok(path, "<d:resourcetype><d:collection/></d:resourcetype>"),
            ok(path + "work/", kind + "<d:displayname>Work</d:displayname>"),
            ok(path + "home/", kind + "<d:displayname>Home</d:displayname>"),
        )
    return httpx.Response(404)


def test_icloud_links_as_apple_and_explains_app_specific_passwords() -> None:
    provider = CalDAVProvider(LOOPBACK, transport=httpx.MockTransport(icloud))
    linked = provider.link({"preset": "icloud", "username": "me@icloud.com", "password": "app-pw"})
    assert (linked.provider_name, linked.provider_service) == ("apple", "icloud")
    assert linked.settings["server_url"] == "https://caldav.icloud.com/"
    calendars = provider.calendars(Connection("pro_1", linked.settings, linked.secrets))
    assert [(c.remote_id, c.primary) for c in calendars] == [
        ("https://p07-caldav.icloud.com/123/calendars/work/", False),
        ("https://p07-caldav.icloud.com/123/calendars/home/", True),
    ]
    field, key, words = link_error(provider, {"preset": "icloud", "username": "me@icloud.com", "password": "x"})
    assert (field, key) == ("password", "errors.credentials_rejected") and "app-specific password" in words


def test_redirects_to_private_addresses_are_refused_when_loopback_is_not_allowed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://127.0.0.1:5232/"})

    strict = CalDAVProvider({"allow_loopback": "False"}, transport=httpx.MockTransport(answer))
    field, key, words = link_error(strict, {"server_url": "https://93.184.215.14/", "username": "a", "password": "b"})
    assert (field, key) == UNREACHABLE and "private" in words
    conn = Connection("pro_1", {"server_url": "https://93.184.215.14/", "username": "a"}, {"password": "b"})
    with pytest.raises(ProviderError, match="private"):
        strict.calendars(conn)


@pytest.mark.parametrize(
    ("form", "tried"),
    [
        (
            {"preset": "nextcloud", "server_url": "cloud.example.org/"},
            ["https://cloud.example.org/remote.php/dav/", "https://cloud.example.org/"],
        ),
        (
            {"preset": "fastmail", "server_url": "ignored"},
            ["https://caldav.fastmail.com/.well-known/caldav", "https://caldav.fastmail.com/", "me@fm.com/"],
        ),
    ],
)
def test_presets_try_their_discovery_urls_in_order(form: dict[str, str], tried: list[str]) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(404)

    provider = CalDAVProvider(LOOPBACK, transport=httpx.MockTransport(answer))
    field, key, _ = link_error(provider, {**form, "username": "me@fm.com", "password": "pw"})
    assert (field, key) == UNREACHABLE
    assert [url for url in tried if not any(s.endswith(url) for s in seen)] == []
    assert problem(provider, server_url="https://me:pw@dav.example.com/", username="a", password="b") == INVALID_URL
