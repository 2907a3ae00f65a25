"""Enterprise Connect for Microsoft 365: MicrosoftCalendarProvider's link_admin and delegate against an emulated
tenant (tests/emulators/graph_tenant.py) over real HTTP, and the tenant's own answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from horae.domain.events import Event
from horae.errors import InvalidRequest, ProviderAuthRejected, ProviderUnavailable, UnknownUser
from horae.ports import Connection, Linked
from horae.providers.calendars.microsoft import MicrosoftCalendarProvider
from tests.emulators.graph_recurrence import graph_time
from tests.emulators.graph_tenant import GraphTenantEmulator
from tests.emulators.microsoft import GraphEmulator
from tests.emulators.server import serve

START = datetime(2030, 1, 7, 10, tzinfo=UTC)
WINDOW = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
ADMIN = "admin@example.com"


@dataclass
class Tenant:
    emulator: GraphTenantEmulator
    url: str
    provider: MicrosoftCalendarProvider
    admin: GraphEmulator

    def form(self, client: tuple[str, str], **changes: str) -> dict[str, str]:
        fields = {"domain": "example.com", "tenant_id": self.emulator.tenant_id, "admin_email": ADMIN}
        return fields | {"client_id": client[0], "client_secret": client[1]} | changes

    def link(self) -> Connection:
        linked = self.provider.link_admin(self.form(self.emulator.register_app()))
        return Connection("ser_admin", dict(linked.settings), dict(linked.secrets))


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    emulator = GraphTenantEmulator()
    admin = emulator.add_person(ADMIN)
    with serve(emulator.app) as url:
        options = {
            "timeout_seconds": "5",
            "allow_loopback": "True",
            "client_id": "horae-client",  # Horae's own multi-tenant application: not used for app-only tokens
            "client_secret": "horae-secret",
            "auth_url": f"{url}/common/oauth2/v2.0/authorize",
            "token_url": f"{url}/common/oauth2/v2.0/token",
            "api_url": f"{url}/v1.0",
        }
        provider = MicrosoftCalendarProvider(options)
        try:
            yield Tenant(emulator, url, provider, admin)
        finally:
            provider.close()


def add_meeting(person: GraphEmulator, subject: str, days: int = 0) -> str:
    start = START + timedelta(days=days)
    body = {"subject": subject, "start": graph_time(start), "end": graph_time(start + timedelta(hours=1))}
    return str(person.add_event(person.default_calendar_id, body)["id"])


def summaries(tenant: Tenant, conn: Connection, calendar_id: str, cursor: str | None = None) -> tuple[list[str], str]:
    found = tenant.provider.changes(conn, calendar_id, cursor, WINDOW)
    assert found.cursor is not None
    return sorted(item.event.summary for item in found.items), found.cursor


# --- link_admin -------------------------------------------------------------------------------------------------


def test_link_admin_accepts_a_registered_application(tenant: Tenant) -> None:
    client_id, secret = tenant.emulator.register_app()
    linked = tenant.provider.link_admin(tenant.form((client_id, secret)))
    assert isinstance(linked, Linked) and linked.profile_name == "example.com"
    assert linked.settings == {"tenant_id": tenant.emulator.tenant_id, "client_id": client_id, "app_only": "true"}
    assert set(linked.secrets) == {"client_secret", "access_token", "expires_at"}
    assert linked.secrets["client_secret"] == secret and linked.secrets["access_token"]
    [token_call] = tenant.emulator.token_requests()
    assert token_call.path == f"/{tenant.emulator.tenant_id}/oauth2/v2.0/token"  # the tenant's, not /common
    assert any(r.path == f"/v1.0/users/{ADMIN}/calendars" for r in tenant.emulator.requests)


def test_link_admin_takes_the_tenant_by_its_domain_name(tenant: Tenant) -> None:
    linked = tenant.provider.link_admin(tenant.form(tenant.emulator.register_app(), tenant_id="example.com"))
    assert linked.settings["tenant_id"] == "example.com"
    assert tenant.emulator.token_requests()[-1].path == "/example.com/oauth2/v2.0/token"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"client_secret": "not-the-secret"}, "client_secret", "client secret"),
        ({"tenant_id": str(uuid.uuid4())}, "tenant_id", "no tenant"),
        ({"tenant_id": "other.example"}, "tenant_id", "no tenant"),
        ({"client_id": str(uuid.uuid4())}, "client_id", "no application"),
        ({"admin_email": "nobody@example.com"}, "admin_email", "no mailbox"),
    ],
)
def test_link_admin_names_the_field_microsoft_refused(
    tenant: Tenant, change: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        tenant.provider.link_admin(tenant.form(tenant.emulator.register_app(), **change))
    assert list(refused.value.errors) == [field]
    assert words in refused.value.errors[field][0].description
    assert refused.value.errors[field][0].key == "errors.invalid"


def test_link_admin_asks_for_the_calendars_permission(tenant: Tenant) -> None:
    with pytest.raises(InvalidRequest) as refused:
        tenant.provider.link_admin(tenant.form(tenant.emulator.register_app(permission=False)))
    [problem] = refused.value.errors["client_id"]
    assert "Calendars.ReadWrite" in problem.description and "admin consent" in problem.description


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tenant_id": "../../evil"}, "tenant_id"),
        ({"tenant_id": "a/b"}, "tenant_id"),
        ({"tenant_id": ""}, "tenant_id"),
        ({"client_id": "horae-client"}, "client_id"),
        ({"client_secret": " "}, "client_secret"),
        ({"admin_email": "admin"}, "admin_email"),
    ],
)
def test_link_admin_checks_the_form_before_asking_microsoft(tenant: Tenant, change: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        tenant.provider.link_admin(tenant.form(tenant.emulator.register_app(), **change))
    assert list(refused.value.errors) == [field]
    assert tenant.emulator.requests == []


# --- delegate ---------------------------------------------------------------------------------------------------


def test_a_delegated_person_sees_and_writes_their_own_calendar_only(tenant: Tenant) -> None:
    alice, bob = tenant.emulator.add_person("alice@example.com"), tenant.emulator.add_person("bob@example.com")
    for day in range(3):
        add_meeting(alice, f"Alice {day}", day)
    add_meeting(bob, "Bob's")
    admin = tenant.link()
    conn = tenant.provider.delegate(admin, "alice@example.com")
    assert conn.profile_id == admin.profile_id
    assert conn.settings == admin.settings | {"user": "alice@example.com"}
    assert set(conn.secrets) == {"client_secret", "access_token", "expires_at"}

    [calendar] = tenant.provider.calendars(conn)
    calendar_id = calendar.remote_id
    assert calendar_id is not None and calendar_id == alice.default_calendar_id and calendar.primary
    tenant.provider.page_size = 2  # three events: the round follows a nextLink under /users/alice...
    listed, cursor = summaries(tenant, conn, calendar_id)
    assert listed == ["Alice 0", "Alice 1", "Alice 2"]
    assert any("$skiptoken" in r.query and r.path.startswith("/v1.0/users/alice@") for r in tenant.emulator.requests)

    add_meeting(alice, "Alice later", 5)
    add_meeting(bob, "Bob later", 5)
    changed, _ = summaries(tenant, conn, calendar_id, cursor)  # ...and the deltaLink
    assert changed == ["Alice later"]

    event = Event("evr_1", "cal_1", "acc_1", "evt_written_1", "Written by Horae", False, START, START)
    event.starts_at, event.ends_at = START + timedelta(days=9), START + timedelta(days=9, hours=1)
    written = tenant.provider.write_event(conn, calendar_id, event, None, None)
    stored = alice.get_event(written.remote_id)
    assert stored is not None and stored["subject"] == "Written by Horae"
    assert bob.get_event(written.remote_id) is None
    assert [e["subject"] for e in bob.events.values()] == ["Bob's", "Bob later"]
    tenant.provider.delete_event(conn, calendar_id, written.remote_id, written.etag)
    assert alice.get_event(written.remote_id) is None


@pytest.mark.parametrize("email", ["stranger@example.com", "no-mailbox@example.com", "not-an-address"])
def test_an_unknown_person_is_reported_as_such(tenant: Tenant, email: str) -> None:
    tenant.emulator.add_user_without_mailbox("no-mailbox@example.com")
    with pytest.raises(UnknownUser):
        tenant.provider.delegate(tenant.link(), email)


def test_expired_tokens_are_renewed_by_client_credentials(tenant: Tenant) -> None:
    person = tenant.emulator.add_person("carol@example.com")
    add_meeting(person, "Carol's")
    conn = tenant.provider.delegate(tenant.link(), "carol@example.com")
    before = conn.secrets["access_token"]
    asked = len(tenant.emulator.token_requests())
    tenant.emulator.expire_access_tokens()
    listed, _ = summaries(tenant, conn, person.default_calendar_id)  # 401, then a new token, then the round
    assert listed == ["Carol's"]
    assert len(tenant.emulator.token_requests()) == asked + 1
    assert conn.secrets["access_token"] != before and int(conn.secrets["expires_at"]) > 0
    conn.secrets["expires_at"] = "0"  # about to expire: renewed before the call
    assert tenant.provider.calendars(conn)
    assert len(tenant.emulator.token_requests()) == asked + 2


def test_a_withdrawn_permission_or_secret_is_a_refusal(tenant: Tenant) -> None:
    tenant.emulator.add_person("dan@example.com")
    admin = tenant.link()
    tenant.emulator.set_permission(admin.settings["client_id"], False)
    with pytest.raises(ProviderAuthRejected):
        tenant.provider.delegate(admin, "dan@example.com")
    tenant.emulator.set_permission(admin.settings["client_id"], True)
    conn = tenant.provider.delegate(admin, "dan@example.com")
    conn.secrets["client_secret"] = "rotated-away"
    tenant.emulator.expire_access_tokens()
    with pytest.raises(ProviderAuthRejected):
        tenant.provider.calendars(conn)


def test_broken_events_fail_the_first_sync_but_not_the_calendar_list(tenant: Tenant) -> None:
    person = tenant.emulator.add_person("erin@example.com")
    add_meeting(person, "Erin's")
    conn = tenant.provider.delegate(tenant.link(), "erin@example.com")
    tenant.emulator.break_events("erin@example.com")
    assert [c.remote_id for c in tenant.provider.calendars(conn)] == [person.default_calendar_id]
    with pytest.raises(ProviderUnavailable):
        tenant.provider.changes(conn, person.default_calendar_id, None, WINDOW)
    tenant.emulator.mend_events("erin@example.com")
    assert summaries(tenant, conn, person.default_calendar_id)[0] == ["Erin's"]


# --- the tenant's answers, as Microsoft words them ---------------------------------------------------------------


def test_client_credentials_and_graph_errors_over_http(tenant: Tenant) -> None:
    client_id, secret = tenant.emulator.register_app()
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    form["scope"] = "https://graph.microsoft.com/.default"
    with httpx.Client(base_url=tenant.url, timeout=5) as http:
        answer = http.post(f"/{tenant.emulator.tenant_id}/oauth2/v2.0/token", data=form).json()
        assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3599 and "refresh_token" not in answer
        wrong_scope = http.post(f"/{tenant.emulator.tenant_id}/oauth2/v2.0/token", data=form | {"scope": "x"})
        assert wrong_scope.status_code == 400 and wrong_scope.json()["error"] == "invalid_scope"
        common = http.post("/common/oauth2/v2.0/token", data=form)
        assert common.status_code == 400 and common.json()["error_codes"] == [90002]
        bad = http.post(f"/{tenant.emulator.tenant_id}/oauth2/v2.0/token", data=form | {"client_secret": "x"})
        assert bad.status_code == 401 and bad.json()["error_description"].startswith("AADSTS7000215:")

        http.headers["Authorization"] = f"Bearer {answer['access_token']}"
        unknown = http.get("/v1.0/users/x@example.com/calendars")
        assert unknown.status_code == 404
        error = unknown.json()["error"]
        assert (error["code"], error["message"]) == (
            "ErrorInvalidUser",
            "The requested user 'x@example.com' is invalid.",
        )
        assert http.get("/v1.0/users/ADMIN%40Example.com/calendars").status_code == 200  # addresses ignore case
        assert http.get("/v1.0/me/calendars").status_code == 400  # an app-only token signs nobody in
        tenant.emulator.set_permission(client_id, False)
        denied = http.get(f"/v1.0/users/{ADMIN}/calendars")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "ErrorAccessDenied"
