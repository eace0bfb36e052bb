"""The outbox relay on real databases and the real broker: every row published once, in order,
marked sent; two relays on PostgreSQL never publish the same row twice (SKIP LOCKED)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from kombu import Connection, Exchange, Queue

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_contracts.routing import CASES_EXCHANGE
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.relay import OutboxRelay, relay_publisher
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event
from tests.conftest import wait_for

from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = create_engine(database_url)
    migrate(engine)
    yield SqlStore(engine)
    engine.dispose()


def test_relay_publishes_each_row_once_in_order(store: SqlStore, amqp_url: str,
                                                unique: Callable[[str], str]) -> None:
    jurisdiction_key = "case.updated.kota-bandung"
    handler = TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(hours=1)))
    prefix = unique("RELAY")
    events = [as_event(validate_event(department_event("case.submitted", f"{prefix}-{i:03d}")),
                       T0) for i in range(60)]
    handler.handle_batch(events)
    with Connection(amqp_url) as connection:
        channel = connection.channel()
        queue = Queue(f"test-relay-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                      channel=channel)
        queue.declare()
        queue.bind_to(Exchange(CASES_EXCHANGE, passive=True), routing_key=jurisdiction_key)
        relays = [OutboxRelay(store, relay_publisher(amqp_url), batch_size=7)
                  for _ in range(1 if store.is_sqlite else 2)]
        threads = [threading.Thread(target=relay.flush) for relay in relays]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert all(relay.unsent() == 0 for relay in relays)
        received: list[str] = []

        def all_received() -> bool:
            while (message := queue.get(no_ack=True)) is not None:
                body = json.loads(message.body)
                if body["subject"].startswith(prefix):
                    received.append(body["subject"])
            return len(received) >= 60

        wait_for(all_received, timeout=20, message="60 case.updated messages")
        assert len(received) == 60 == len(set(received))  # no row published twice
        if len(relays) == 1:
            assert received == sorted(received)  # one relay: outbox order
        for relay in relays:
            relay.publisher.close()  # type: ignore[attr-defined]
