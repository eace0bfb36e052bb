"""W3C trace context across Pantau's hops, on OpenTelemetry (edges only; FastAPI-safe, no eventlet).

Carriers: a CloudEvent carries its trace context in the CloudEvents distributed-tracing extension
attributes ``traceparent`` / ``tracestate`` (``TRACE_ATTRIBUTES``); an AMQP message carries the
publisher's span in headers of the same names. A consumer prefers the message header (the span
that published it, one hop closer) and falls back to the event's attributes. A department may set
either: it is used for correlation only (a parent or a link) — never for a decision; a malformed
value is ignored, and a ``tracestate`` over ``MAX_TRACESTATE`` characters is dropped.

``configure(service, exporter=..., jsonfile=...)`` installs an SDK ``TracerProvider`` in every
process, so trace ids exist (for logs and propagation) whatever the exporter:

* ``none`` (default): no processor — spans are made and dropped, no network call; a span no log
  line reads (``start_span`` without ``recorded``) is a cheap non-recording one with the same
  context;
* ``otlp``: ``BatchSpanProcessor`` + OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT`` etc., the standard
  variables). Under eventlet its worker thread is a green thread (monkey-patched ``threading``);
* ``jsonfile`` (tests): ``SimpleSpanProcessor`` writing one JSON object per finished span to a file,
  so a test can collect the spans of separate OS processes.

Spans for a batch: ``batch_span`` has the first valid context as its parent and links to the
others (a span has one parent at most).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import (
    Link,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:  # FastAPI is imported by the HTTP apps only, never by nameko processes
    from fastapi.telemetry import TelemetryConfig

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACE_ATTRIBUTES = (TRACEPARENT, TRACESTATE)
MAX_TRACESTATE = 512  # W3C allows 32 members; we keep what fits a column and a header
MAX_LINKS = 128  # a bulk span links at most this many other contexts
EXPORTERS = ("none", "otlp", "jsonfile")

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACE_MARKERS = (b"traceparent", b"tracestate", b"\\u")
_TRACER_NAME = "pantau"


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as a JSON line (name, ids, parent, links, attributes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(span_record(span), default=str) + "\n" for span in spans]
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.writelines(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """A finished span as plain data (hex ids, as in ``traceparent``)."""
    context = span.get_span_context()
    assert context is not None  # a finished SDK span always has one
    return {
        "service": span.resource.attributes.get("service.name"),
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": _hex_trace(context.trace_id),
        "span_id": _hex_span(context.span_id),
        "parent_span_id": _hex_span(span.parent.span_id) if span.parent else None,
        "parent_trace_id": _hex_trace(span.parent.trace_id) if span.parent else None,
        "links": [{"trace_id": _hex_trace(link.context.trace_id),
                   "span_id": _hex_span(link.context.span_id)} for link in span.links],
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.name,
    }


def configure(service: str, *, exporter: str = "none", jsonfile: Path | None = None,
              extra_processor: Any = None) -> TracerProvider:
    """Install this process's tracer provider (call once at start, before instrumenting)."""
    if exporter not in EXPORTERS:
        raise ValueError(f"PANTAU_OTEL_EXPORTER must be one of {EXPORTERS}, not {exporter!r}")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter == "otlp":
        # imported only when asked for: "none" loads no exporter and makes no network call
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter == "jsonfile":
        if jsonfile is None:
            raise ValueError("PANTAU_OTEL_EXPORTER=jsonfile needs PANTAU_OTEL_JSONFILE")
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(jsonfile)))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    _set_provider(provider)
    global _silent_provider
    _silent_provider = provider if exporter == "none" and extra_processor is None else None
    return provider


def _set_provider(provider: TracerProvider) -> None:
    # the API's global provider can be set once per process; tests may configure again
    trace._TRACER_PROVIDER_SET_ONCE._done = False  # noqa: SLF001
    trace._TRACER_PROVIDER = None  # noqa: SLF001
    trace.set_tracer_provider(provider)


_tracer: tuple[Any, trace.Tracer] | None = None  # (provider, its tracer)
_silent_provider: TracerProvider | None = None  # configured to export nothing
_ids = RandomIdGenerator()


def tracer() -> trace.Tracer:
    """Pantau's tracer from the current provider — made once per provider: ``get_tracer`` builds a
    new SDK ``Tracer`` on every call (5 % of tracking's time when it was called per span)."""
    global _tracer
    provider = trace.get_tracer_provider()
    if _tracer is None or _tracer[0] is not provider:
        _tracer = (provider, trace.get_tracer(_TRACER_NAME))
    return _tracer[1]


# -- carriers -------------------------------------------------------------------------------------

def carrier_of(source: Mapping[str, Any] | None) -> dict[str, str]:
    """``traceparent``/``tracestate`` from event attributes or message headers (strings only)."""
    found: dict[str, str] = {}
    for name in TRACE_ATTRIBUTES:
        value = (source or {}).get(name)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str) and value:
            found[name] = value
    if len(found.get(TRACESTATE, "")) > MAX_TRACESTATE:
        del found[TRACESTATE]
    return found


def event_carrier(raw: bytes | str | Mapping[str, Any]) -> dict[str, str]:
    """The trace attributes of a structured-mode CloudEvent (empty if it is not JSON)."""
    if not isinstance(raw, Mapping):
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return {}
    return carrier_of(raw) if isinstance(raw, Mapping) else {}


def delivery_carrier(headers: Mapping[str, Any] | None,
                     body: bytes | str | Mapping[str, Any]) -> dict[str, str]:
    """A consumed message's context: its header (the publishing span) if valid, else the event's."""
    from_headers = carrier_of(headers)
    if span_context(from_headers) is not None:
        return from_headers
    return event_carrier(body)


def span_context(carrier: Mapping[str, str]) -> SpanContext | None:
    """The remote span context a carrier names, or None if it names none (or a malformed one)."""
    if not carrier.get(TRACEPARENT):
        return None
    context = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
    return context if context.is_valid else None


def current_carrier(span: Span | None = None) -> dict[str, str]:
    """``traceparent``/``tracestate`` of ``span`` (default: the current one); empty if none."""
    carrier: dict[str, str] = {}
    ctx = trace.set_span_in_context(span) if span is not None else None
    _PROPAGATOR.inject(carrier, context=ctx)
    return carrier_of(carrier)


def with_trace(raw: bytes, carrier: Mapping[str, str]) -> bytes:
    """The structured-mode event ``raw`` with its trace attributes replaced by ``carrier``'s.

    Fast path: a UTF-8 body (JSON may also come as UTF-16 or UTF-32) that cannot hold a trace
    attribute (no such name, and no ``\\u`` escape that could spell one) gets the carrier's
    members spliced in after its opening brace instead of being decoded and encoded again —
    the relay did that for every message (a whole public case) it published."""
    if not carrier:
        return raw
    if raw[:1] == b"{" and raw[1:2] != b"\x00" \
            and not any(marker in raw for marker in _TRACE_MARKERS):
        members = b"".join(json.dumps(name).encode() + b":" + json.dumps(value).encode() + b","
                           for name, value in carrier.items())
        rest = raw[1:]
        if rest.lstrip()[:1] == b"}":  # an empty object: no member follows
            members = members[:-1]
        return b"{" + members + rest
    document = json.loads(raw)
    for name in TRACE_ATTRIBUTES:
        document.pop(name, None)
    document.update(carrier)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


# -- spans ----------------------------------------------------------------------------------------

def start_span(name: str, carriers: Iterable[Mapping[str, str]] = (), *,
               kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None,
               use_current: bool = False, recorded: bool = False) -> Span:
    """A started span (end it yourself). Parent: the current span if ``use_current``, else the
    first valid carrier's context (none: a new trace). Every other valid context is a link.

    When this process exports nothing (``configure(exporter="none")``), a span that is not
    ``recorded`` is a non-recording one with the context the SDK would give it (a new span id
    in the parent's trace, the parent's flags and state): what it propagates is the same, at a
    fraction of the cost — tracking starts two per event, intake's forwarder one. ``recorded``
    keeps an SDK span, whose attributes the JSON log lines read while it is current
    (``batch_span``)."""
    contexts = _unique(span_context(c) for c in carriers)
    current = trace.get_current_span().get_span_context() if use_current else None
    if not recorded and _silent_provider is not None \
            and trace.get_tracer_provider() is _silent_provider:
        if current is not None and current.is_valid:
            return _unrecorded(current)
        return _unrecorded(contexts[0] if contexts else None)
    parent: Any = None
    if current is not None and current.is_valid:
        parent = otel_context.get_current()
    elif contexts:
        parent = trace.set_span_in_context(trace.NonRecordingSpan(contexts.pop(0)),
                                           otel_context.Context())
    else:
        parent = otel_context.Context()  # not the current one: a new root
    links = [Link(c) for c in contexts[:MAX_LINKS]]
    return tracer().start_span(name, context=parent, kind=kind, links=links,
                               attributes=dict(attributes or {}))


@contextmanager
def batch_span(name: str, carriers: Iterable[Mapping[str, str]] = (), *,
               kind: SpanKind = SpanKind.CONSUMER,
               attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
    """``start_span`` as the current span for the block; an exception marks it failed."""
    span = start_span(name, carriers, kind=kind, attributes=attributes, recorded=True)
    with trace.use_span(span, end_on_exit=True, record_exception=True,
                        set_status_on_exception=True):
        yield span


def _unrecorded(parent: SpanContext | None) -> Span:
    """A non-recording span continuing ``parent``'s trace (a new root when None), as the SDK's
    default sampler would flag it."""
    if parent is None:  # the default sampler samples a root; its ids are random
        random = TraceFlags.RANDOM_TRACE_ID if _ids.is_trace_id_random() else 0
        flags = TraceFlags.SAMPLED | random
        context = SpanContext(_ids.generate_trace_id(), _ids.generate_span_id(), is_remote=False,
                              trace_flags=TraceFlags(flags))
    else:  # ParentBased: the parent's sampled and random bits, no other
        flags = parent.trace_flags & (TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)
        context = SpanContext(parent.trace_id, _ids.generate_span_id(), is_remote=False,
                              trace_flags=TraceFlags(flags), trace_state=parent.trace_state)
    return trace.NonRecordingSpan(context)


def fail(span: Span, detail: str) -> None:
    span.set_status(Status(StatusCode.ERROR, detail[:200]))


def end_all(spans: Iterable[Span]) -> None:
    for span in spans:
        span.end()


def _unique(contexts: Iterable[SpanContext | None]) -> list[SpanContext]:
    seen: set[tuple[int, int]] = set()
    kept = []
    for context in contexts:
        if context is not None and (context.trace_id, context.span_id) not in seen:
            seen.add((context.trace_id, context.span_id))
            kept.append(context)
    return kept


def _hex_trace(value: int) -> str:
    return format(value, "032x")


def _hex_span(value: int) -> str:
    return format(value, "016x")


def log_ids() -> tuple[str | None, str | None]:
    """(trace_id, span_id) of the current span, hex, or (None, None)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return _hex_trace(context.trace_id), _hex_span(context.span_id)


# FastAPI's own telemetry (0.165+) starts a server span — plus spans per dependency, endpoint
# and serialisation — whenever a tracer provider is set, unless the OpenTelemetry middleware is
# in the stack. Pantau's apps trace through ``instrument_fastapi`` alone (one server span, the
# exporter chosen by PANTAU_OTEL_EXPORTER), so they turn FastAPI's off: ``FastAPI(telemetry=…)``.
FASTAPI_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False,
                                          "operation_spans": False}


def instrument_fastapi(app: Any) -> None:
    """Server spans for a FastAPI app (a request's ``traceparent`` header is its parent);
    probes and metrics are not traced. No span per ASGI ``receive``/``send`` message: three more
    spans per request that say nothing a server span does not (and cost CPU per request).

    When this process exports nothing, ``SilentServerSpans`` gives each request the context its
    server span would have (the sender's trace, a span id of its own) without the
    instrumentation's per-request span, attributes and send wrapper: ≈ 12 % of a single-event
    request's CPU in intake's profile (``docs/performance.md``). Decided when the app is built:
    call ``configure``/``setup`` first, as the processes do."""
    if _silent_provider is not None and trace.get_tracer_provider() is _silent_provider:
        app.add_middleware(SilentServerSpans)
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics",
                                       tracer_provider=trace.get_tracer_provider(),
                                       exclude_spans=["receive", "send"])


class SilentServerSpans:
    """ASGI middleware for a process that exports nothing: each HTTP request runs under a
    non-recording span continuing its ``traceparent``/``tracestate`` headers (a new root without
    them), so what the request's work propagates — intake's forwarded events — and what its log
    lines name are what a recorded server span would give."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        span = _unrecorded(span_context(_header_carrier(scope.get("headers", ()))))
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


def _header_carrier(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """``traceparent``/``tracestate`` from raw ASGI headers as the propagator reads a request's:
    the first ``traceparent``, every ``tracestate`` joined (W3C: repeated headers combine)."""
    parents = [v.decode("latin-1") for k, v in headers if k == b"traceparent"]
    states = [v.decode("latin-1") for k, v in headers if k == b"tracestate"]
    carrier = {TRACEPARENT: parents[0]} if parents else {}
    if states:
        carrier[TRACESTATE] = ",".join(states)
    return carrier


def setup(service: str, settings: Any = None) -> TracerProvider:
    """``configure`` from the settings (``PANTAU_OTEL_EXPORTER``, ``PANTAU_OTEL_JSONFILE``)."""
    from pantau_platform.settings import PantauSettings
    settings = settings or PantauSettings()
    jsonfile = settings.otel_jsonfile or settings.state_dir / f"spans-{service}.jsonl"
    return configure(service, exporter=settings.otel_exporter, jsonfile=jsonfile)


EVENT_ID = "cloudevents.event_id"  # span attributes the JSON log lines repeat
RECEIPT = "pantau.receipt"


def current_attributes() -> Mapping[str, Any]:
    """The current span's attributes (an SDK span's; empty otherwise)."""
    return getattr(trace.get_current_span(), "attributes", None) or {}


__all__ = ["EVENT_ID", "FASTAPI_TELEMETRY_OFF", "RECEIPT", "TRACEPARENT", "TRACESTATE",
           "SilentServerSpans", "Span", "SpanKind", "batch_span",
           "carrier_of", "configure", "current_carrier", "delivery_carrier", "end_all",
           "event_carrier", "fail", "instrument_fastapi", "log_ids", "setup", "span_context",
           "start_span", "with_trace"]
