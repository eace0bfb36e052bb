"""The outbox keeps the trace context of the event that caused a row (migration 0005, both
databases); the relay publishes the event with that context and headers naming its own span."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_platform import tracing
from pantau_platform.amqp import Outgoing
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.relay import OutboxRelay
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event

from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration
APPLY = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Captured:
    """A publisher that keeps what it was given (the broker is not the subject here)."""

    def __init__(self) -> None:
        self.items: list[Outgoing] = []

    def publish_many(self, items: list[Outgoing]) -> None:
        self.items.extend(items)


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = create_engine(database_url)
    migrate(engine)
    yield SqlStore(engine)
    engine.dispose()


def test_the_relay_continues_the_trace_stored_with_the_row(store: SqlStore, unique: Any) -> None:
    tracing.configure("tracking")  # as every process does at start (export off)
    handler = TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(hours=1)))
    receipt = unique("TRACE")
    event = as_event(validate_event(department_event("case.submitted", receipt)), T0)
    handler.handle_batch([dataclasses.replace(event, traceparent=APPLY, tracestate="k=v")])
    publisher = Captured()
    OutboxRelay(store, publisher).flush()
    (item,) = [i for i in publisher.items if i.message_id and i.message_id.startswith(receipt)]
    body = json.loads(item.body)
    assert (body["traceparent"], body["tracestate"]) == (APPLY, "k=v")
    headers = dict(item.headers or {})
    trace_id, span_id = headers["traceparent"].split("-")[1:3]
    assert trace_id == APPLY.split("-")[1] and span_id != APPLY.split("-")[2]
