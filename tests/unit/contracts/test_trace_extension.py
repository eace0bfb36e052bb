"""The CloudEvents distributed-tracing extension passes intake's validation (any sender may set
it) and is kept as opaque strings on the validated event."""

from __future__ import annotations

import json

from pantau_contracts import event_to_json, make_event, validate_event

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def body(**extensions: object) -> bytes:
    return event_to_json(make_event(type="case.submitted", source="/kota-bandung/dpmptsp",
                                    data={"receipt_number": "BDG-PBG-0001",
                                          "service_code": "pbg"}, **extensions))


def test_a_department_may_set_traceparent_and_tracestate() -> None:
    event = validate_event(body(traceparent=TRACEPARENT, tracestate="dinas=1"), inbound=True)
    assert (event.traceparent, event.tracestate) == (TRACEPARENT, "dinas=1")
    assert json.loads(event.raw)["traceparent"] == TRACEPARENT  # forwarded as sent


def test_without_it_there_is_none() -> None:
    event = validate_event(body(), inbound=True)
    assert event.traceparent is None and event.tracestate is None


def test_a_malformed_or_huge_value_is_not_refused_only_not_kept() -> None:
    event = validate_event(body(traceparent="not-a-trace", tracestate="x" * 600), inbound=True)
    assert event.traceparent == "not-a-trace"  # opaque; tracing ignores what it cannot parse
    assert event.tracestate is None
