"""Trace context extraction/injection and span relations (``pantau_platform.tracing``), with the
SDK's in-memory exporter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pantau_platform import tracing

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
OTHER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure("test", extra_processor=SimpleSpanProcessor(exporter))
    yield exporter
    tracing.configure("test")


def test_carrier_keeps_only_string_trace_attributes() -> None:
    assert tracing.carrier_of({"traceparent": PARENT, "tracestate": "a=1", "id": "x"}) == {
        "traceparent": PARENT, "tracestate": "a=1"}
    assert tracing.carrier_of({"traceparent": 7}) == {}
    assert tracing.carrier_of({"traceparent": PARENT.encode()}) == {"traceparent": PARENT}
    assert tracing.carrier_of({"traceparent": PARENT, "tracestate": "a=" + "x" * 600}) == {
        "traceparent": PARENT}


@pytest.mark.parametrize("value", ["", "garbage", "00-" + "0" * 32 + "-" + "0" * 16 + "-01",
                                   "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
def test_malformed_traceparent_names_no_context(value: str) -> None:
    assert tracing.span_context({"traceparent": value}) is None


def test_delivery_prefers_a_valid_header_then_the_event() -> None:
    body = json.dumps({"id": "1", "traceparent": OTHER}).encode()
    assert tracing.delivery_carrier({"traceparent": PARENT}, body) == {"traceparent": PARENT}
    assert tracing.delivery_carrier({"traceparent": "broken"}, body) == {"traceparent": OTHER}
    assert tracing.delivery_carrier(None, b"not json") == {}


def test_with_trace_replaces_the_event_attributes_and_keeps_the_rest() -> None:
    raw = json.dumps({"id": "1", "traceparent": OTHER, "tracestate": "old=1",
                      "data": {"a": 1}}).encode()
    rewritten = json.loads(tracing.with_trace(raw, {"traceparent": PARENT}))
    assert rewritten == {"id": "1", "traceparent": PARENT, "data": {"a": 1}}
    assert tracing.with_trace(raw, {}) == raw


def test_batch_span_has_the_first_context_as_parent_and_links_the_others(
        spans: InMemorySpanExporter) -> None:
    with tracing.batch_span("bulk", [{"traceparent": PARENT}, {}, {"traceparent": OTHER},
                                     {"traceparent": PARENT}]):
        pass
    (span,) = spans.get_finished_spans()
    assert span.parent is not None and span.parent.is_remote
    assert format(span.parent.trace_id, "032x") == PARENT[3:35]
    assert format(span.context.trace_id, "032x") == PARENT[3:35]
    assert [format(link.context.span_id, "016x") for link in span.links] == [OTHER[36:52]]


def test_current_carrier_injects_the_span_so_the_next_hop_is_its_child(
        spans: InMemorySpanExporter) -> None:
    first = tracing.start_span("publish", [{"traceparent": PARENT}])
    carrier = tracing.current_carrier(first)
    first.end()
    second = tracing.start_span("apply", [carrier])
    second.end()
    published, applied = spans.get_finished_spans()
    assert applied.parent is not None
    assert applied.parent.span_id == published.context.span_id
    assert applied.context.trace_id == published.context.trace_id


def test_use_current_makes_a_child_of_the_current_span_and_links_the_senders(
        spans: InMemorySpanExporter) -> None:
    with tracing.batch_span("server", []) as server:
        child = tracing.start_span("publish", [{"traceparent": OTHER}], use_current=True)
        child.end()
    publish, server_span = spans.get_finished_spans()
    assert publish.parent is not None
    assert publish.parent.span_id == server.get_span_context().span_id
    assert [format(link.context.trace_id, "032x") for link in publish.links] == [OTHER[3:35]]


def test_no_carrier_and_no_current_span_is_a_new_root(spans: InMemorySpanExporter) -> None:
    with tracing.batch_span("outer", []):
        root = tracing.start_span("relay", [{}])
        root.end()
    relay = spans.get_finished_spans()[0]
    assert relay.parent is None


def test_jsonfile_exporter_writes_one_line_per_span(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    tracing.configure("svc", exporter="jsonfile", jsonfile=path)
    try:
        with tracing.batch_span("apply", [{"traceparent": PARENT}, {"traceparent": OTHER}],
                                attributes={tracing.EVENT_ID: "e1"}):
            pass
    finally:
        tracing.configure("test")
    (line,) = path.read_text().splitlines()
    record = json.loads(line)
    assert record["service"] == "svc" and record["name"] == "apply"
    assert record["trace_id"] == PARENT[3:35] and record["parent_span_id"] == PARENT[36:52]
    assert record["links"] == [{"trace_id": OTHER[3:35], "span_id": OTHER[36:52]}]
    assert record["attributes"] == {tracing.EVENT_ID: "e1"}


def test_an_unknown_exporter_is_refused() -> None:
    with pytest.raises(ValueError, match="PANTAU_OTEL_EXPORTER"):
        tracing.configure("svc", exporter="zipkin")


def test_none_exports_nothing_but_still_makes_trace_ids() -> None:
    provider = tracing.configure("svc")
    assert provider._active_span_processor._span_processors == ()  # noqa: SLF001
    with tracing.batch_span("x", []):
        assert tracing.log_ids()[0] is not None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=3), max_leaves=10)


@given(document=st.dictionaries(st.sampled_from(["id", "data", "traceparent", "tracestate",
                                                 "tráce", "x"]) | st.text(max_size=12),
                                JSON_VALUES, max_size=5),
       ascii_only=st.booleans(), spaced=st.booleans(),
       carrier=st.sampled_from([{"traceparent": PARENT},
                                {"traceparent": PARENT, "tracestate": "a=1"}]))
def test_with_trace_reads_the_same_whichever_path_it_takes(
        document: dict[str, object], ascii_only: bool, spaced: bool,
        carrier: dict[str, str]) -> None:
    """The spliced fast path and the decode/encode path give the same event."""
    raw = json.dumps(document, ensure_ascii=ascii_only,
                     separators=(", ", ": ") if spaced else (",", ":")).encode()
    expected = {k: v for k, v in document.items() if k not in tracing.TRACE_ATTRIBUTES}
    assert json.loads(tracing.with_trace(raw, carrier)) == {**expected, **carrier}


def test_exporting_nothing_spans_still_continue_the_parents_trace() -> None:
    """With ``exporter="none"`` a span that no log line reads is non-recording, and propagates
    what the SDK's would: the parent's trace id and flags, a span id of its own."""
    tracing.configure("test")
    child = tracing.start_span("q apply", [{"traceparent": PARENT}], attributes={"a": "b"})
    assert not child.is_recording()
    version, trace_id, span_id, flags = tracing.current_carrier(child)["traceparent"].split("-")
    _v, parent_trace, parent_span, parent_flags = PARENT.split("-")
    assert (trace_id, flags) == (parent_trace, parent_flags) and span_id != parent_span
    root = tracing.current_carrier(tracing.start_span("root"))["traceparent"].split("-")
    assert root[1] != parent_trace and root[3] == "03"  # sampled, random trace id: the SDK's
    with tracing.batch_span("bulk", [{"traceparent": PARENT}],
                            attributes={tracing.EVENT_ID: "e1"}):  # read by the log lines
        assert tracing.current_attributes()[tracing.EVENT_ID] == "e1"


def test_spans_are_recorded_whenever_something_exports_them(
        spans: InMemorySpanExporter) -> None:
    tracing.start_span("q apply", [{"traceparent": PARENT}]).end()
    assert [s.name for s in spans.get_finished_spans()] == ["q apply"]


def test_with_trace_decodes_a_utf16_body_instead_of_splicing_it() -> None:
    raw = json.dumps({"id": "1"}).encode("utf-16-le")
    assert json.loads(tracing.with_trace(raw, {"traceparent": PARENT})) == {
        "id": "1", "traceparent": PARENT}


def test_exporting_nothing_a_use_current_span_continues_the_current_one() -> None:
    """Intake's forwarder (``use_current``): the current span's trace when there is one, else
    the sender's; non-recording either way when nothing exports."""
    tracing.configure("test")
    with tracing.batch_span("consume", [{"traceparent": PARENT}]) as current:
        child = tracing.start_span("publish", [{"traceparent": OTHER}], use_current=True)
        assert not child.is_recording()
        context = child.get_span_context()
        assert context.trace_id == current.get_span_context().trace_id
        assert context.span_id != current.get_span_context().span_id
    alone = tracing.start_span("publish", [{"traceparent": OTHER}], use_current=True)
    assert tracing.current_carrier(alone)["traceparent"].split("-")[1] == OTHER.split("-")[1]


def test_exporting_nothing_a_request_runs_in_its_senders_trace() -> None:
    """``instrument_fastapi`` without an exporter: no instrumentation, but the endpoint's work
    continues the request's ``traceparent`` (a new root without one), as a server span would."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    tracing.configure("test")
    app = FastAPI()
    tracing.instrument_fastapi(app)

    @app.get("/work")
    def work() -> dict[str, str]:
        return tracing.current_carrier()

    with TestClient(app) as client:
        continued = client.get("/work", headers={"traceparent": PARENT}).json()["traceparent"]
        root = client.get("/work").json()["traceparent"]
    _v, trace_id, span_id, flags = continued.split("-")
    assert (trace_id, flags) == (PARENT.split("-")[1], PARENT.split("-")[3])
    assert span_id != PARENT.split("-")[2]
    assert root.split("-")[1] != trace_id
    assert [m.cls for m in app.user_middleware] == [tracing.SilentServerSpans]



@pytest.mark.parametrize("flags", ["00", "01", "02", "03", "ff"])
def test_exporting_nothing_a_child_has_the_flags_the_sdk_would_give(flags: str) -> None:
    parent = PARENT.rsplit("-", 1)[0] + "-" + flags
    sdk = TracerProvider().get_tracer("t").start_span(
        "x", context=trace.set_span_in_context(trace.NonRecordingSpan(
            tracing.span_context({"traceparent": parent}))))
    tracing.configure("test")
    silent = tracing.start_span("x", [{"traceparent": parent}])
    assert silent.get_span_context().trace_flags == sdk.get_span_context().trace_flags


def test_silent_server_spans_read_repeated_trace_headers_as_the_propagator_does() -> None:
    headers = [(b"traceparent", PARENT.encode()), (b"traceparent", OTHER.encode()),
               (b"tracestate", b"a=1"), (b"tracestate", b"b=2")]
    assert tracing._header_carrier(headers) == {  # noqa: SLF001
        "traceparent": PARENT, "tracestate": "a=1,b=2"}
