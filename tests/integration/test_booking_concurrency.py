"""Fifty invitees confirm the same slot of the same host at the same moment, through the HTTP app, on
SQLite and on PostgreSQL: exactly one booking succeeds, every other invitee gets the "slot no longer
available" page, one event is written and one completed callback is queued and sent."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from horae.api.app import create_app
from horae.container import Container
from horae.db import tables
from tests.api.test_availability import NOW, key, primary
from tests.fakes import FakeClock
from tests.helpers import RecordingSender, connect, csrf_of

INVITEES = 50
COMPLETED = "https://app.example/rts/completed"


def test_fifty_invitees_one_slot(container: Container, clock: FakeClock) -> None:
    clock.current = NOW
    sender = RecordingSender()
    container.callbacks.sender = sender
    container.push.sender = sender
    app = create_app(container)
    setup = TestClient(app, base_url="http://127.0.0.1:8000")
    host = connect(container, "host@example.com")
    body: dict[str, Any] = {
        "oauth": {"redirect_uri": "https://app.example/oauth"},
        "event": {"event_id": "meeting", "summary": "Meeting", "tzid": "Etc/UTC"},
        "availability": {
            "participants": [{"members": [{"sub": host.sub}]}],
            "required_duration": {"minutes": 30},
            "query_periods": [{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T09:30:00Z"}],
        },
        "target_calendars": [{"sub": host.sub, "calendar_id": primary(setup, host)}],
        "callback_urls": {"completed_url": COMPLETED},
        "redirect_urls": {"completed_url": "https://app.example/thanks"},
    }
    paths = []
    for _ in range(INVITEES):
        made = setup.post("/v1/real_time_scheduling", json=body, headers=key(host))
        assert made.status_code == 200, made.text
        paths.append(urlsplit(made.json()["real_time_scheduling"]["url"]).path)
    slot = str(int(NOW.replace(year=2026, month=12, day=1, hour=9).timestamp()))
    ready = threading.Barrier(INVITEES)

    def invitee(path: str) -> tuple[int, str]:
        browser = TestClient(app, base_url="http://127.0.0.1:8000")
        confirm = browser.get(f"{path}/confirm", params={"slot": slot, "tz": "Etc/UTC"})
        assert confirm.status_code == 200, confirm.text
        form = {"slot": slot, "tz": "Etc/UTC", "csrf_token": csrf_of(confirm.text)}
        ready.wait()
        answer = browser.post(f"{path}/book", data=form, follow_redirects=False)
        return answer.status_code, answer.text

    with ThreadPoolExecutor(INVITEES) as pool:
        answers = list(pool.map(invitee, paths))

    assert sorted(status for status, _ in answers) == [303] + [409] * (INVITEES - 1)
    assert all("Slot no longer available" in text for status, text in answers if status == 409)
    events = setup.get(
        "/v1/events", params={"from": "2026-12-01", "to": "2026-12-02", "include_managed": "true"}, headers=host.auth
    ).json()["events"]
    assert [(e["summary"], e["start"]) for e in events] == [("Meeting", "2026-12-01T09:00:00Z")]
    with container.uow() as uow:
        jobs = uow.session.execute(select(tables.jobs.c.payload).where(tables.jobs.c.kind == "callback.post")).all()  # type: ignore[attr-defined]
        links = uow.session.execute(select(tables.scheduling_links.c.status)).scalars().all()  # type: ignore[attr-defined]
    assert [p["url"] for (p,) in jobs] == [COMPLETED]
    assert [s.url for s in sender.sent] == [COMPLETED]
    assert sorted(links) == ["completed"] + ["open"] * (INVITEES - 1)
