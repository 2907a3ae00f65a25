"""Invitation mail through a real SMTP server (aiosmtpd on loopback), the link shown instead when mail cannot go
out, and no secret or invitation token in the logs."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from horae import bootstrap
from horae.api.app import create_app
from horae.container import Container
from horae.services.organizations import OPERATOR
from horae.settings import Settings
from tests.fakes import FakeClock
from tests.helpers import REDIRECT
from tests.mail_catcher import mail_catcher
from tests.units_world import BASE, PASSWORD, browser, build_world


@contextmanager
def _built(settings: Settings, clock: FakeClock, smtp_url: str) -> Iterator[Container]:
    """The app as deployed with this SMTP URL, over the test's database and data directory."""
    built = bootstrap.build(settings.model_copy(update={"smtp_url": smtp_url}), clock)
    yield built
    built.uow.engine.dispose()  # type: ignore[attr-defined]


def test_an_invitation_is_mailed_when_smtp_is_configured(settings: Settings, clock: FakeClock) -> None:
    with mail_catcher() as catcher, _built(settings, clock, catcher.url()) as container:
        world = build_world(container)  # its invitation of new@example.com is mailed too
        web = create_app(container)
        owner = browser(web, world.people["owner"].email)
        sent = owner.post(f"/dashboard/units/{world.unit_id}/invitations", email="carol@example.com", role="owner")
        assert sent.status_code == 200 and "An invitation was sent to carol@example.com" in sent.text
        assert 'id="invitation-link"' not in sent.text and f"{BASE}/invitations/" not in sent.text
        mails = catcher.wait_for(2)
        assert catcher.recipients[-1] == ["carol@example.com"]
        assert mails[-1]["Subject"] == "Join Platform on Horae"
        body = str(mails[-1].get_content())
        assert "Owner (ada@example.com) invites you" in body and "as owner" in body
        (link,) = catcher.links()
        assert link.startswith(f"{BASE}/invitations/")

        container.accounts.sign_up("carol@example.com", PASSWORD, "Carol")
        carol = browser(web, "carol@example.com")
        assert carol.post(link.removeprefix(BASE)).status_code == 303
        roles = {m.email: m.role for m in container.organizations.members(OPERATOR, world.unit_id)}
        assert roles["carol@example.com"] == "owner"


def test_the_link_is_shown_when_the_mail_server_cannot_be_reached(settings: Settings, clock: FakeClock) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with _built(settings, clock, f"smtp://127.0.0.1:{closed}") as container:
        world = build_world(container)
        owner = browser(create_app(container), world.people["owner"].email)
        sent = owner.post(f"/dashboard/units/{world.unit_id}/invitations", email="carol@example.com", role="support")
        assert sent.status_code == 200 and 'id="invitation-link"' in sent.text


def _logged(caplog: pytest.LogCaptureFixture, skip: str = "") -> str:
    """What the server logged (the test's own HTTP client logs its URLs too: not ours), extras included."""
    ours = [r for r in caplog.records if r.name.startswith("horae") and not (skip and r.name.startswith(skip))]
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in ours)


def _flow(container: Container) -> list[str]:
    """Create an application, rotate its secret, invite and accept on the pages; returns every secret seen."""
    world = build_world(container)
    web = create_app(container)
    owner = browser(web, world.people["owner"].email)
    made = owner.post(f"/dashboard/units/{world.unit_id}/applications", name="Logs", redirect_uris=REDIRECT)
    rotated = owner.post(f"/dashboard/applications/{world.app_id}/secrets")
    invited = owner.post(f"/dashboard/units/{world.unit_id}/invitations", email="carol@example.com", role="support")
    link = invited.text.split('id="invitation-link" value="', 1)[1].split('"', 1)[0]
    container.accounts.sign_up("carol@example.com", PASSWORD, "Carol")
    carol = browser(web, "carol@example.com")
    carol.client.get(link.removeprefix(BASE))
    assert carol.post(link.removeprefix(BASE)).status_code == 303
    anonymous = TestClient(web, base_url=BASE)
    anonymous.get(link.removeprefix(BASE))
    secrets = [*world.secrets, link.rsplit("/", 1)[1], PASSWORD]
    for html in (made.text, rotated.text):
        secrets.append(html.split('id="client-secret" class="secret" value="', 1)[1].split('"', 1)[0])
    return secrets


def test_secrets_and_invitation_tokens_are_not_logged(container: Container, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        secrets = _flow(container)
    logged = _logged(caplog, skip="horae.http")
    assert "invitation created" in logged and "invitation accepted" in logged
    for secret in secrets:
        assert secret not in logged


def test_the_request_log_does_not_show_invitation_tokens(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    """Invitation links carry their token in the path; the request log shows the path without it."""
    with caplog.at_level(logging.DEBUG, logger="horae.http"):
        secrets = _flow(container)
    logged = _logged(caplog)
    assert "/invitations/[secret]" in logged
    for secret in secrets:
        assert secret not in logged
