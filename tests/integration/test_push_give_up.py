"""A delivery whose job is given up without a word from its handler still fails and closes its channel."""

from __future__ import annotations

from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain.push import Delivery
from tests.helpers import connect


def _only_delivery(container: Container, channel_id: str) -> Delivery:
    with container.uow() as uow:
        [delivery] = uow.deliveries.for_channel(channel_id, 10)
    return delivery


def test_given_up_delivery_closes_its_channel(client: TestClient, container: Container) -> None:
    ada = connect(container)
    created = client.post("/v1/channels", json={"callback_url": "http://127.0.0.1:9/hook"}, headers=ada.auth)
    assert created.status_code == 200, created.text
    channel_id = created.json()["channel"]["channel_id"]
    delivery = _only_delivery(container, channel_id)
    with container.uow() as uow:  # as if every worker had died on it: still pending
        stored = uow.deliveries.get(delivery.id)
        assert stored is not None
        stored.status = "pending"
        uow.commit()

    stale = {"delivery_id": delivery.id, "job_id": "job_replaced", "error": "worker died during every attempt"}
    with container.uow() as uow:
        container.push.given_up(uow, stale)
        uow.commit()
    assert _only_delivery(container, channel_id).status == "pending"  # a newer job speaks for it

    with container.uow() as uow:
        container.push.given_up(uow, {**stale, "job_id": delivery.job_id})
        uow.commit()
    assert _only_delivery(container, channel_id).status == "failed"
    listed = client.get("/v1/channels?include_closed=true", headers=ada.auth).json()["channels"]
    [closed] = [c for c in listed if c["channel_id"] == channel_id]
    assert "worker died during every attempt" in closed["close_reason"]
