"""What the AMQP ingress holds a message for (the broker or intake's database away) and what it
lets fail as unknown — classified from the real exceptions intake's adapters raise."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from pantau_contracts import event_to_json, make_event, validate_event
from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
from pantau_intake.adapters.forwarder import AmqpForwarder
from pantau_intake.adapters.sql import engine_for, ping
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.ingress.failures import unavailable
from pantau_intake.service.acceptance import ForwardError
from pantau_platform.amqp import ConfirmingPublisher, Outgoing, PublishError

CLOSED_BROKER = "amqp://pantau:pantau@127.0.0.1:1/pantau"


def _json() -> bytes:
    return event_to_json(make_event(
        type="case.submitted", source="/kota-bandung/dpmptsp", time=datetime.now(UTC),
        data={"receipt_number": "BDG-PBG-X-1", "service_code": "pbg"}))


class RefusingPublisher(ConfirmingPublisher):
    """What ``ConfirmingPublisher`` raises once its connection attempts were refused."""

    def publish_many(self, items: list[Outgoing]) -> None:
        raise PublishError("broker unavailable: [Errno 111] Connection refused")


def test_a_broker_that_does_not_confirm_is_waited_for() -> None:
    publisher = RefusingPublisher(CLOSED_BROKER)
    with pytest.raises(ForwardError) as forwarded:
        AmqpForwarder(publisher).forward([validate_event(_json())])
    assert unavailable(forwarded.value) == "broker"
    with pytest.raises(PublishError) as published:  # e.g. a dead letter not confirmed
        publisher.publish(Outgoing(exchange="pantau.dlx", routing_key="x", body=b"{}"))
    assert unavailable(published.value) == "broker"
    assert unavailable(PublishError("unroutable: pantau.accepted/x: NO_ROUTE")) == "broker"


def test_an_unreachable_database_is_waited_for(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "intake.sqlite3"  # cannot be opened
    engine = engine_for(f"sqlite:///{missing}")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            SqlAcceptedEvents(engine)
        assert unavailable(caught.value) == "database"
        assert ping(engine) is False
    finally:
        engine.dispose()
    good = engine_for(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    try:
        assert ping(good) is True
    finally:
        good.dispose()


def test_anything_else_is_unknown() -> None:
    assert unavailable(ValueError("bug")) is None
    assert unavailable(sa.exc.OperationalError("SELECT 1", {}, Exception("raw"))) is None
    try:
        try:
            raise StoreUnavailable("looking up accepted events: OperationalError")
        except StoreUnavailable as exc:
            raise RuntimeError("while handling") from exc
    except RuntimeError as outer:
        assert unavailable(outer) == "database"
