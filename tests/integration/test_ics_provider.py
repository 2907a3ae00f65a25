"""The ICS feed provider against the contract rig's loopback feed server, and against scripted answers for
what that server never does (webcal, Last-Modified only, no validators, huge or broken feeds)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from horae.domain import recurrence
from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderError, ProviderUnavailable, SyncCursorExpired
from horae.ports import Connection
from horae.providers.calendars.form_linked import checked_url, in_window
from horae.providers.calendars.ics import MAX_FEED_BYTES, ICSFeedProvider, read_feed
from tests.contract.rig_ics import ICSRig, make_rig

WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
LOOPBACK = {"timeout_seconds": "5", "allow_loopback": "True"}


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[ICSRig]:
    with make_rig(request) as made:
        assert isinstance(made, ICSRig)
        yield made


@pytest.fixture
def provider(rig: ICSRig) -> ICSFeedProvider:
    assert isinstance(rig.provider, ICSFeedProvider)
    return rig.provider


def at(day: int, hour: int, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def vevent(uid: str, summary: str, start: str = "20261202T090000Z", end: str = "20261202T100000Z") -> str:
    dtstart = f"DTSTART:{start}\r\n" if start else ""
    stamp = "DTSTAMP:20261101T000000Z\r\n"
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\n{stamp}{dtstart}DTEND:{end}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"


def feed_text(*events: str, header: str = "") -> str:
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{header}{''.join(events)}END:VCALENDAR\r\n"


def scripted(answer: Callable[[httpx.Request], httpx.Response]) -> tuple[ICSFeedProvider, Connection]:
    provider = ICSFeedProvider(LOOPBACK, transport=httpx.MockTransport(answer))
    return provider, Connection("pro_1", {}, {"url": "https://feeds.example.com/cal.ics?key=s3cret"})


def link_error(provider: ICSFeedProvider, url: str) -> tuple[str, str, str]:
    with pytest.raises(InvalidRequest) as raised:
        provider.link({"url": url})
    [(field, [error])] = raised.value.errors.items()
    return field, error.key, error.description


# --- against the feed server -------------------------------------------------------------------------------


def test_link_and_calendars_name_the_feed(rig: ICSRig, provider: ICSFeedProvider) -> None:
    url = rig.conn.secrets["url"]
    linked = provider.link({"url": url})
    assert (linked.profile_name, linked.settings, linked.secrets) == (rig.feed.name, {}, {"url": url})
    assert [(c.remote_id, c.name, c.readonly, c.primary) for c in rig.provider.calendars(rig.conn)] == [
        ("feed", rig.feed.name, True, True)
    ]
    assert rig.provider.calendars(rig.conn)[0].name == rig.feed.name  # answered 304: the name is remembered
    assert not rig.provider.writable


def test_a_full_listing_then_nothing_until_the_feed_changes(rig: ICSRig) -> None:
    first = rig.add("First", at(2, 9), at(2, 10))
    second = rig.add("Second", date(2026, 12, 24), date(2026, 12, 25))
    rig.add("Long ago", at(2, 9, month=1), at(2, 10, month=1))
    full = rig.provider.changes(rig.conn, "feed", None, WINDOW)
    assert full.complete and full.cursor and full.removed == []
    versions = {item.remote_id: item.etag for item in full.items}
    assert {i.remote_id: i.event.summary for i in full.items} == {first: "First", second: "Second"}

    unchanged = rig.provider.changes(rig.conn, "feed", full.cursor, WINDOW)
    assert (unchanged.items, unchanged.removed, unchanged.cursor, unchanged.complete) == ([], [], full.cursor, False)

    rig.change(first, "First, renamed")
    rig.remove(second)
    changed = rig.provider.changes(rig.conn, "feed", full.cursor, WINDOW)
    assert changed.complete and changed.cursor != full.cursor
    [item] = changed.items
    assert (item.remote_id, item.event.summary) == (first, "First, renamed")
    assert item.etag != versions[first]
    again = rig.provider.changes(rig.conn, "feed", None, WINDOW)
    assert [i.etag for i in again.items] == [item.etag]  # the same content, the same version


def test_a_series_reads_back_with_its_moved_and_cancelled_instances(rig: ICSRig) -> None:
    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 12, 7, 9, tzinfo=zone)
    uid = rig.add("Standup", start, start + timedelta(minutes=15), "America/New_York", "FREQ=DAILY;COUNT=5")
    rig.cancel_instance(uid, start + timedelta(days=1))
    rig.move_instance(
        uid, start + timedelta(days=2), start + timedelta(days=2, hours=3), start + timedelta(days=2, hours=4)
    )
    [item] = rig.provider.changes(rig.conn, "feed", None, WINDOW).items
    assert (item.remote_id, item.event.recurrence) == (uid, {"rrule": "FREQ=DAILY;COUNT=5"})
    assert item.event.cancelled == (recurrence.key_of(datetime(2026, 12, 8, 14, tzinfo=UTC)),)
    [moved] = item.event.overrides
    assert moved.key == recurrence.key_of(datetime(2026, 12, 9, 14, tzinfo=UTC))
    assert moved.start is not None and moved.start.instant == datetime(2026, 12, 9, 17, tzinfo=UTC)


def test_refused_throttled_and_read_only(rig: ICSRig) -> None:
    rig.break_auth()
    for call in (
        lambda: rig.provider.calendars(rig.conn),
        lambda: rig.provider.changes(rig.conn, "feed", None, WINDOW),
    ):
        with pytest.raises(ProviderAuthRejected) as refused:
            call()
        assert rig.feed.key not in str(refused.value)
    rig.restore_auth()
    rig.throttle(9)
    with pytest.raises(ProviderUnavailable) as busy:
        rig.provider.changes(rig.conn, "feed", None, WINDOW)
    assert busy.value.retry_after_seconds == 9
    assert rig.provider.changes(rig.conn, "feed", None, WINDOW).complete
    with pytest.raises(SyncCursorExpired):
        rig.provider.changes(rig.conn, "feed", "not json", WINDOW)
    for write in (
        lambda: rig.provider.create_calendar(rig.conn, "More", None),
        lambda: rig.provider.delete_event(rig.conn, "feed", "x", None),
    ):
        with pytest.raises(ProviderError, match="read-only"):
            write()


def test_link_explains_what_is_wrong(rig: ICSRig, provider: ICSFeedProvider) -> None:
    url = rig.conn.secrets["url"]
    assert link_error(provider, url.replace("key=", "key=wrong"))[:2] == ("url", "errors.credentials_rejected")
    assert link_error(provider, url.replace("/feeds/", "/nowhere/"))[:2] == ("url", "errors.unreachable")
    assert link_error(provider, "ftp://example.com/cal.ics")[:2] == ("url", "errors.invalid_url")
    field, key, words = link_error(provider, "http://127.0.0.1:9/cal.ics?key=s3cret")
    assert (field, key) == ("url", "errors.unreachable") and "s3cret" not in words
    strict = ICSFeedProvider({"allow_loopback": "False"})
    assert link_error(strict, url)[:2] == ("url", "errors.invalid_url")
    assert link_error(strict, "webcal://192.168.1.10/cal.ics")[:2] == ("url", "errors.invalid_url")
    strict.close()


# --- scripted answers --------------------------------------------------------------------------------------


def test_webcal_is_fetched_over_https_and_last_modified_is_sent_back() -> None:
    seen: list[httpx.Request] = []
    stamp = "Tue, 01 Dec 2026 09:00:00 GMT"

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-Modified-Since") == stamp:
            return httpx.Response(304)
        header = "X-WR-CALNAME:Team\\, holidays\r\n"
        return httpx.Response(200, text=feed_text(vevent("a", "A"), header=header), headers={"Last-Modified": stamp})

    provider, conn = scripted(answer)
    linked = provider.link({"url": "webcal://feeds.example.com/cal.ics?key=s3cret"})
    assert linked.secrets == {"url": "https://feeds.example.com/cal.ics?key=s3cret"}
    assert linked.profile_name == "Team, holidays"
    assert str(seen[0].url).startswith("https://")
    full = provider.changes(conn, "feed", None, WINDOW)
    assert full.cursor is not None and len(full.items) == 1
    assert provider.changes(conn, "feed", full.cursor, WINDOW).complete is False
    assert seen[-1].headers["If-Modified-Since"] == stamp


def test_a_feed_served_again_unchanged_without_validators_reports_nothing() -> None:
    provider, conn = scripted(lambda request: httpx.Response(200, text=feed_text(vevent("a", "A"))))
    full = provider.changes(conn, "feed", None, WINDOW)
    same = provider.changes(conn, "feed", full.cursor, WINDOW)
    assert (same.items, same.complete, same.cursor) == ([], False, full.cursor)
    assert provider.calendars(conn)[0].name == "feeds.example.com"


def test_one_bad_event_does_not_spoil_the_feed_and_floating_times_use_the_feeds_zone() -> None:
    text = feed_text(
        vevent("good", "Good", "20261202T090000", "20261202T100000"),
        vevent("bad", "No start", start=""),
        header="X-WR-TIMEZONE:Europe/Paris\r\n",
    )
    [good] = read_feed(text)
    assert good.uid == "good" and good.start.instant == datetime(2026, 12, 2, 8, tzinfo=UTC)
    provider, conn = scripted(lambda request: httpx.Response(200, text="<html>not a calendar</html>"))
    assert link_error(provider, "https://feeds.example.com/x")[:2] == ("url", "errors.not_a_calendar")
    with pytest.raises(ProviderError, match="not iCalendar"):
        provider.changes(conn, "feed", None, WINDOW)


@pytest.mark.parametrize("declared", [True, False])
def test_feeds_over_20_mb_are_refused(declared: bool) -> None:
    big = b"X" * (MAX_FEED_BYTES + 1)

    def answer(request: httpx.Request) -> httpx.Response:
        if declared:
            return httpx.Response(200, content=big)
        return httpx.Response(200, content=iter([big[:MAX_FEED_BYTES], big[MAX_FEED_BYTES:]]))

    provider, conn = scripted(answer)
    with pytest.raises(ProviderError, match="20 MB"):
        provider.changes(conn, "feed", None, WINDOW)


@pytest.mark.parametrize(
    ("status", "headers", "error", "wait"),
    [
        (503, {"Retry-After": "30"}, ProviderUnavailable, 30),
        (500, {}, ProviderUnavailable, None),
        (403, {}, ProviderAuthRejected, None),
        (410, {}, ProviderError, None),
    ],
)
def test_answers_become_provider_errors(
    status: int, headers: dict[str, str], error: type[Exception], wait: int | None
) -> None:
    provider, conn = scripted(lambda request: httpx.Response(status, headers=headers))
    with pytest.raises(error) as raised:
        provider.changes(conn, "feed", None, WINDOW)
    assert "s3cret" not in str(raised.value)
    assert getattr(raised.value, "retry_after_seconds", None) == wait


def test_redirects_to_private_addresses_are_refused_when_loopback_is_not_allowed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    strict = ICSFeedProvider({"allow_loopback": "False"}, transport=httpx.MockTransport(answer))
    conn = Connection("pro_1", {}, {"url": "https://93.184.215.14/cal.ics?key=s3cret"})
    with pytest.raises(ProviderError, match="private") as raised:
        strict.changes(conn, "feed", None, WINDOW)
    assert "s3cret" not in str(raised.value) and raised.value.__cause__ is None


def test_checked_url_adds_https_and_maps_schemes() -> None:
    assert checked_url(" dav.example.com/cal ", "server_url", True) == "https://dav.example.com/cal"
    webcal = {"webcal": "https", "https": "https"}
    assert checked_url("webcal://x.example.com/a.ics?k=1", "url", True, webcal) == "https://x.example.com/a.ics?k=1"


def test_all_day_events_float_across_every_zone() -> None:
    [remote] = read_feed(feed_text(vevent("d", "Day", "20261202", "20261203")))
    assert in_window(remote, (at(3, 9), at(3, 12)))  # 2 Dec in Kiritimati ends at 10:00 UTC on the 3rd
    assert not in_window(remote, (at(3, 15), at(4, 0)))
