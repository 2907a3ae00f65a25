"""The Zoom and Microsoft Teams conferencing providers against their emulators over real HTTP: linking through
consent, meetings made, moved and deleted, token renewal, and the services' refusals and outages."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from horae.domain.conferencing import Meeting, invite_block
from horae.errors import ProviderAuthRejected, ProviderError, ProviderUnavailable
from horae.ports import ConferencingProvider, Connection, OAuthLinker
from horae.providers.conferencing import load_conferencing_provider
from horae.settings import Settings
from tests.emulators.common import EmulatorBase, parse_instant
from tests.emulators.server import serve
from tests.emulators.teams import TeamsEmulator
from tests.emulators.zoom import ZoomEmulator

REDIRECT = "http://127.0.0.1:9/conferencing/callback"
START = datetime(2030, 1, 7, 9, 30, tzinfo=UTC)
MEETING = Meeting("Planning", START, START + timedelta(minutes=45), "Europe/Paris")


@dataclass
class Service:
    """How one service and its emulator differ: paths, and where a stored meeting keeps its title and times."""

    kind: str
    name: str
    make: Callable[[], ZoomEmulator | TeamsEmulator]
    paths: dict[str, str]
    title: Callable[[dict[str, Any]], str]
    times: Callable[[dict[str, Any]], tuple[datetime, datetime]]


def _zoom_times(stored: dict[str, Any]) -> tuple[datetime, datetime]:
    start = parse_instant(stored["start_time"])
    return start, start + timedelta(minutes=stored["duration"])


SERVICES = {
    "zoom": Service(
        "zoom",
        "Zoom",
        ZoomEmulator,
        {"auth_url": "/oauth/authorize", "token_url": "/oauth/token", "api_url": "/v2"},
        lambda stored: str(stored["topic"]),
        _zoom_times,
    ),
    "teams": Service(
        "teams",
        "Microsoft Teams",
        TeamsEmulator,
        {
            "auth_url": "/common/oauth2/v2.0/authorize",
            "token_url": "/common/oauth2/v2.0/token",
            "api_url": "/v1.0",
        },
        lambda stored: str(stored["subject"]),
        lambda stored: (parse_instant(stored["startDateTime"]), parse_instant(stored["endDateTime"])),
    ),
}


@dataclass
class Kit:
    service: Service
    emulator: Any  # ZoomEmulator | TeamsEmulator: the same test controls
    base: str
    provider: Any  # ZoomConferencing | TeamsConferencing: a ConferencingProvider and an OAuthLinker

    def options(self, **extra: str) -> dict[str, str]:
        found = {k: self.base + path for k, path in self.service.paths.items()}
        found |= {"client_id": self.emulator.client_id, "client_secret": self.emulator.client_secret}
        return found | {"timeout_seconds": "5"} | extra

    def fresh(self, **extra: str) -> Any:
        return load_conferencing_provider(self.service.kind, self.options(**extra))

    def link(self) -> Connection:
        linked = self.provider.complete(consent(self.provider), REDIRECT)
        return Connection("pro_1", linked.settings, linked.secrets)


@pytest.fixture(params=sorted(SERVICES))
def kit(request: pytest.FixtureRequest) -> Iterator[Kit]:
    service = SERVICES[request.param]
    emulator = service.make()
    with serve(emulator.app) as base:
        made = Kit(service, emulator, base, None)
        made.provider = made.fresh()
        yield made
        made.provider.close()


def consent(provider: Any, state: str = "state-1") -> str:
    """Go through the emulator's consent page as a person would; the code it redirects back with."""
    answer = httpx.get(provider.authorization_url(REDIRECT, state), follow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def api_calls(emulator: EmulatorBase) -> list[str]:
    return [f"{r.method} {r.path}" for r in emulator.requests if "oauth" not in r.path]


# --- linking ---------------------------------------------------------------------------------------------------


def test_the_consent_url_names_the_app_the_redirect_and_the_state(kit: Kit) -> None:
    url = urlsplit(kit.provider.authorization_url(REDIRECT, "st-9"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == kit.base + kit.service.paths["auth_url"]
    assert query["client_id"] == kit.emulator.client_id and query["response_type"] == "code"
    assert query["redirect_uri"] == REDIRECT and query["state"] == "st-9"
    if kit.service.kind == "teams":
        assert query["scope"] == "offline_access OnlineMeetings.ReadWrite User.Read openid email"


def test_linking_through_consent_names_the_account_and_keeps_its_tokens(kit: Kit) -> None:
    linked = kit.provider.complete(consent(kit.provider), REDIRECT)
    assert linked.profile_name == "user@example.com" and linked.settings["email"] == "user@example.com"
    assert set(linked.secrets) == {"access_token", "refresh_token", "expires_at"}
    assert linked.secrets["refresh_token"] in kit.emulator.tokens.refresh_tokens
    assert float(linked.secrets["expires_at"]) > time.time() + 3000


def test_a_code_used_twice_or_made_up_is_refused(kit: Kit) -> None:
    code = consent(kit.provider)
    kit.provider.complete(code, REDIRECT)
    for wrong in (code, "code-made-up"):
        with pytest.raises(ProviderAuthRejected):
            kit.provider.complete(wrong, REDIRECT)


def test_a_wrong_app_secret_is_horaes_problem_not_the_persons(kit: Kit) -> None:
    code = consent(kit.provider)
    with pytest.raises(ProviderError) as caught:
        kit.fresh(client_secret="not-it").complete(code, REDIRECT)
    assert not isinstance(caught.value, ProviderAuthRejected)  # connecting again would not help
    assert "not-it" not in str(caught.value)


def test_both_are_built_in_oauth_linkers(kit: Kit) -> None:
    provider: ConferencingProvider = kit.fresh()
    assert (provider.key, provider.provider_name) == (kit.service.kind, kit.service.name)
    assert isinstance(provider, OAuthLinker)


def test_settings_give_each_service_its_own_options(kit: Kit) -> None:
    kind = kit.service.kind
    settings = Settings(**{f"{kind}_client_id": "cid", f"{kind}_api_url": "http://proxy/api"})  # type: ignore[arg-type]
    options = settings.provider_options(kind)
    assert options["client_id"] == "cid" and options["api_url"] == "http://proxy/api"
    assert {"client_secret", "auth_url", "token_url", "timeout_seconds"} <= set(options)
    defaults = Settings().provider_options(kind)
    assert defaults["api_url"] == {"zoom": "https://api.zoom.us/v2", "teams": "https://graph.microsoft.com/v1.0"}[kind]


# --- meetings --------------------------------------------------------------------------------------------------


def test_a_meeting_is_made_at_the_events_time_with_its_join_details(kit: Kit) -> None:
    conn = kit.link()
    made = kit.provider.create(conn, MEETING)
    stored = kit.emulator.meetings[made.remote_id]
    assert kit.service.title(stored) == "Planning"
    assert kit.service.times(stored) == (MEETING.starts_at, MEETING.ends_at)
    details = made.details
    assert details.provider_name == kit.service.name
    assert details.join_url == stored.get("join_url", stored.get("joinWebUrl"))
    assert details.join_url.startswith(kit.base)
    if kit.service.kind == "zoom":
        assert stored["timezone"] == "Europe/Paris"
        assert details.passcode == stored["password"]
        assert details.dial_ins[0] == f"+16465588656,,{made.remote_id}#,,,,*{stored['pstn_password']}# (US, New York)"
    else:
        audio = stored["audioConferencing"]
        assert details.dial_ins == (
            f"+14255550123,,{audio['conferenceId']}#",
            f"+18005550199,,{audio['conferenceId']}#",
        )
    assert details.join_url in invite_block(details)


def test_an_update_renames_and_moves_the_meeting(kit: Kit) -> None:
    conn = kit.link()
    made = kit.provider.create(conn, MEETING)
    later = Meeting("Planning (moved)", START + timedelta(days=1), START + timedelta(days=1, hours=2), "Etc/UTC")
    updated = kit.provider.update(conn, made.remote_id, later)
    assert updated.remote_id == made.remote_id and updated.details.join_url == made.details.join_url
    stored = kit.emulator.meetings[made.remote_id]
    assert kit.service.title(stored) == "Planning (moved)"
    assert kit.service.times(stored) == (later.starts_at, later.ends_at)
    assert len(kit.emulator.meetings) == 1


def test_an_update_of_a_meeting_deleted_there_makes_a_new_one(kit: Kit) -> None:
    conn = kit.link()
    made = kit.provider.create(conn, MEETING)
    kit.emulator.delete_meeting(made.remote_id)
    again = kit.provider.update(conn, made.remote_id, MEETING)
    assert again.remote_id != made.remote_id and list(kit.emulator.meetings) == [again.remote_id]


def test_a_deleted_meeting_is_gone_and_deleting_it_again_is_fine(kit: Kit) -> None:
    conn = kit.link()
    made = kit.provider.create(conn, MEETING)
    kit.provider.delete(conn, made.remote_id)
    assert made.remote_id not in kit.emulator.meetings
    kit.provider.delete(conn, made.remote_id)


def test_an_empty_summary_still_gets_a_title_and_a_short_event_a_minute(kit: Kit) -> None:
    conn = kit.link()
    made = kit.provider.create(conn, Meeting("  ", START, START + timedelta(seconds=20)))
    stored = kit.emulator.meetings[made.remote_id]
    assert kit.service.title(stored) == "Meeting"
    if kit.service.kind == "zoom":
        assert (stored["duration"], stored["timezone"]) == (1, "UTC")


def test_without_a_connection_nothing_is_called(kit: Kit) -> None:
    with pytest.raises(ProviderError, match="connected conferencing profile"):
        kit.provider.create(None, MEETING)
    assert api_calls(kit.emulator) == []


# --- tokens ----------------------------------------------------------------------------------------------------


def test_an_expired_access_token_is_renewed_once_and_written_back(kit: Kit) -> None:
    conn = kit.link()
    before = dict(conn.secrets)
    kit.emulator.expire_access_tokens()
    made = kit.provider.create(conn, MEETING)
    assert made.remote_id in kit.emulator.meetings
    assert conn.secrets["access_token"] != before["access_token"]
    assert conn.secrets["refresh_token"] != before["refresh_token"]  # both services rotate refresh tokens
    calls = api_calls(kit.emulator)
    assert calls[-1] == calls[-2]  # refused once, then accepted with the new token


def test_a_token_about_to_expire_is_renewed_before_the_call(kit: Kit) -> None:
    conn = kit.link()
    conn.secrets["expires_at"] = str(int(time.time()) + 30)
    calls_before = len(api_calls(kit.emulator))
    kit.provider.create(conn, MEETING)
    assert len(api_calls(kit.emulator)) == calls_before + 1  # no 401 round trip
    assert float(conn.secrets["expires_at"]) > time.time() + 3000


def test_a_revoked_grant_is_rejected(kit: Kit) -> None:
    conn = kit.link()
    kit.emulator.revoke_refresh_token()
    kit.emulator.expire_access_tokens()
    with pytest.raises(ProviderAuthRejected) as caught:
        kit.provider.create(conn, MEETING)
    for secret in conn.secrets.values():
        assert secret not in str(caught.value)
    assert kit.emulator.meetings == {}


def test_a_connection_without_a_refresh_token_is_rejected_once_its_token_expires(kit: Kit) -> None:
    conn = kit.link()
    del conn.secrets["refresh_token"]
    kit.emulator.expire_access_tokens()
    with pytest.raises(ProviderAuthRejected, match="no refresh token"):
        kit.provider.delete(conn, "123")


# --- outages ---------------------------------------------------------------------------------------------------


def test_a_failing_service_is_unavailable_until_it_recovers(kit: Kit) -> None:
    conn = kit.link()
    kit.emulator.fail_next(2, retry_after=7)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as caught:
            kit.provider.create(conn, MEETING)
        assert caught.value.retry_after_seconds == 7
    assert kit.emulator.meetings == {}
    made = kit.provider.create(conn, MEETING)
    assert made.remote_id in kit.emulator.meetings


@pytest.mark.parametrize("status", [500, 502, 504])
def test_any_server_error_is_unavailable(kit: Kit, status: int) -> None:
    conn = kit.link()
    kit.emulator.fail_next(1, status=status)
    with pytest.raises(ProviderUnavailable) as caught:
        kit.provider.delete(conn, "123")
    assert caught.value.retry_after_seconds is None and str(status) in str(caught.value)


def test_throttling_is_unavailable_with_the_wait(kit: Kit) -> None:
    conn = kit.link()
    kit.emulator.throttle(1, retry_after=5)
    with pytest.raises(ProviderUnavailable) as caught:
        kit.provider.create(conn, MEETING)
    assert caught.value.retry_after_seconds == 5


def test_a_client_error_is_a_plain_provider_error(kit: Kit) -> None:
    conn = kit.link()
    kit.emulator.fail_next(1, status=400)
    with pytest.raises(ProviderError) as caught:
        kit.provider.create(conn, MEETING)
    assert type(caught.value) is ProviderError


def test_an_unreachable_service_is_unavailable(kit: Kit) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    provider = kit.fresh(api_url=closed, token_url=closed + "/token")
    conn = Connection("pro_1", {}, {"access_token": "a", "refresh_token": "r", "expires_at": "0"})
    with pytest.raises(ProviderUnavailable):
        provider.create(conn, MEETING)
