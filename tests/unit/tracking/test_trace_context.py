"""The outbox rows an event causes carry that event's trace context (opaque strings); the service
layer never looks inside it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.registry import validate_event
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.service.handler import TrackingHandler, as_event

from .factories import CATALOGUE, T0
from .fakes import FakeClock, FakeStore

APPLY = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
SENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def event(event_type: str, receipt: str, sequence: int, **extensions: Any) -> ReceivedEvent:
    data: dict[str, Any] = {"receipt_number": receipt}
    if event_type == "case.submitted":
        data["service_code"] = "pbg"
    if event_type == "case.stage_started":
        data["stage"] = "verifikasi-berkas"
    body = event_to_json(make_event(type=event_type, source="/kota-bandung/dpmptsp",
                                    id=str(uuid.uuid4()), data=data, sequence=sequence,
                                    time=T0 + timedelta(hours=sequence), **extensions))
    return as_event(validate_event(body), T0)


def handler() -> tuple[TrackingHandler, FakeStore]:
    store = FakeStore()
    return TrackingHandler(store, CATALOGUE, FakeClock(T0 + timedelta(days=1))), store


def test_the_event_attributes_reach_the_inbound_event() -> None:
    inbound = event("case.submitted", "BDG-PBG-T1", 1, traceparent=SENT, tracestate="a=1")
    assert (inbound.traceparent, inbound.tracestate) == (SENT, "a=1")


def test_case_updated_and_rejected_carry_the_context_the_entrypoint_gave_the_event() -> None:
    tracking, store = handler()
    submitted = dataclasses.replace(event("case.submitted", "BDG-PBG-T2", 1, traceparent=SENT),
                                    traceparent=APPLY, tracestate="k=v")
    refused = dataclasses.replace(event("case.submitted", "BDG-PBG-T2", 1),
                                  traceparent=SENT)  # a second submission: refused
    assert tracking.handle_batch([submitted]) == []
    assert tracking.handle_batch([refused]) == []
    updated, rejected = store.state.outbox
    assert (updated.traceparent, updated.tracestate) == (APPLY, "k=v")
    assert rejected.message_id.startswith("rejected:") and rejected.traceparent == SENT


def test_a_buffered_event_keeps_its_own_context_when_drained_later() -> None:
    tracking, store = handler()
    early = event("case.stage_started", "BDG-PBG-T3", 2, traceparent=SENT)
    assert tracking.handle_batch([early]) == []  # buffered: sequence 1 is missing
    tracking.handle_batch([dataclasses.replace(event("case.submitted", "BDG-PBG-T3", 1),
                                               traceparent=APPLY)])
    assert [m.traceparent for m in store.state.outbox] == [APPLY, SENT]


def test_timer_made_rows_have_no_cause() -> None:
    tracking, store = handler()
    tracking.handle_batch([event("case.submitted", "BDG-PBG-T4", 1, traceparent=SENT)])
    tracking.clock = FakeClock(T0 + timedelta(days=400))
    tracking.check_overdue()
    assert [m.traceparent for m in store.state.outbox][1:] == [None, None]
