"""The forwarder's producer span: the forwarded event (and its headers) name it; the department's
own ``traceparent`` is its parent only when no span is current, else a link."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pantau_contracts import event_to_json, make_event, validate_event
from pantau_intake.adapters.forwarder import AmqpForwarder
from pantau_platform import tracing
from pantau_platform.amqp import Outgoing

DEPARTMENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class FakePublisher:
    def __init__(self) -> None:
        self.items: list[Outgoing] = []

    def publish_many(self, items: list[Outgoing]) -> None:
        self.items.extend(items)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure("intake", extra_processor=SimpleSpanProcessor(exporter))
    yield exporter
    tracing.configure("intake")


def event(**extensions: str) -> object:
    return validate_event(event_to_json(make_event(
        type="case.submitted", source="/kota-bandung/dpmptsp", subject="BDG-PBG-0001",
        data={"receipt_number": "BDG-PBG-0001", "service_code": "pbg"}, **extensions)))


def test_the_forwarded_event_names_the_publish_span_child_of_the_current_one(
        spans: InMemorySpanExporter) -> None:
    publisher = FakePublisher()
    with tracing.batch_span("POST /v1/events", []) as server:
        AmqpForwarder(publisher).forward([event(traceparent=DEPARTMENT)])  # type: ignore[arg-type]
    (item,) = publisher.items
    body = json.loads(item.body)
    assert body["traceparent"] == dict(item.headers or {})["traceparent"]
    publish = spans.get_finished_spans()[0]
    assert publish.name == "pantau.accepted publish"
    assert publish.parent is not None
    assert publish.parent.span_id == server.get_span_context().span_id
    assert body["traceparent"].split("-")[2] == format(publish.context.span_id, "016x")
    assert [format(link.context.trace_id, "032x") for link in publish.links] == [
        DEPARTMENT.split("-")[1]]
    assert publish.attributes is not None
    assert publish.attributes[tracing.RECEIPT] == "BDG-PBG-0001"


def test_without_a_current_span_the_departments_context_is_the_parent(
        spans: InMemorySpanExporter) -> None:
    publisher = FakePublisher()
    AmqpForwarder(publisher).forward([event(traceparent=DEPARTMENT)])  # type: ignore[arg-type]
    publish = spans.get_finished_spans()[0]
    assert publish.parent is not None
    assert format(publish.parent.span_id, "016x") == DEPARTMENT.split("-")[2]
    assert publish.links == ()
