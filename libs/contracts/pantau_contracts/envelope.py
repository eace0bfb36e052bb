"""CloudEvents 1.0 envelopes: parsing, building and the errors a sender can act on.

Wire format is CloudEvents 1.0 JSON (structured mode); the ``cloudevents`` SDK does the envelope
work. Pantau adds three rules of its own:

* ``source`` is ``/{jurisdiction}/{department}`` (more path segments may follow, e.g. the name of
  the sending system), so every event names who emitted it;
* ``time`` is required — the service-level clock is counted from it;
* ``sequence`` (the CloudEvents *sequence* extension, an integer here) orders a case's events;
  department events may omit it, tracking's events always carry it;
* ``pantaureceived`` (``RECEIVED_ATTRIBUTE``) is intake's own extension: the server time (UTC,
  RFC 3339) at which intake received the event. Intake stamps it on every accepted event, HTTP
  and AMQP alike (``stamp_received``); a department can never set it — an inbound event that
  carries it is refused (``validate_event(..., inbound=True)``). ``time`` is what the department
  *claims*; ``pantaureceived`` is when Pantau *knew*. Tracking keeps both;
* ``traceparent`` / ``tracestate`` (the CloudEvents distributed-tracing extension) pass through
  like any valid extension: correlation only (``TRACEPARENT_ATTRIBUTE``).

Whatever passes must be storable on PostgreSQL and SQLite (tracking keeps ``id`` and ``source``
in 200-character columns and ``sequence`` in a BIGINT): ``id`` and ``source`` have at most
``MAX_IDENTITY_LENGTH`` characters, ``sequence`` is below 2**63, ``time`` lies between 1970
and 2200 (``EARLIEST_TIME``, ``LATEST_TIME``: due dates must stay computable), and no string
attribute carries a control character, a non-character or a lone surrogate (``text.UNSAFE``;
PostgreSQL cannot store NUL, and no driver can encode a lone surrogate).
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel

from pantau_contracts.text import unsafe_character

SPECVERSION = "1.0"
SOURCE_PATTERN = re.compile(
    r"^/(?P<jurisdiction>[a-z0-9][a-z0-9-]{1,62})/(?P<department>[a-z0-9][a-z0-9-]{1,62})"
    r"(/[^\s]*)?$")
_FORMAT = JSONFormat()
MAX_EVENT_BYTES = 256 * 1024
MAX_IDENTITY_LENGTH = 200  # id and source: tracking's columns
MAX_SEQUENCE = 2**63 - 1  # a signed 64-bit column on both databases
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)
"""``time`` lies in [EARLIEST_TIME, LATEST_TIME): a service clock started near year 9999 has
no due date (date arithmetic overflows), and such an event would fail in tracking forever."""
RECEIVED_ATTRIBUTE = "pantaureceived"
"""Intake-owned CloudEvents extension: when intake received the event (UTC, RFC 3339)."""
CAUSE_SOURCE_ATTRIBUTE = "pantaucausesource"
CAUSE_ID_ATTRIBUTE = "pantaucauseid"
CAUSE_TYPE_ATTRIBUTE = "pantaucausetype"
"""Tracking-owned extensions of a ``case.updated``: the department event whose application
made this revision (its ``source``, ``id`` and ``type``; absent for a timer's change such as
overdue). Intake's outcomes process records the event as applied from them — one message per
applied event instead of a separate ``event.applied`` — and the public payload is unchanged."""
TRACEPARENT_ATTRIBUTE = "traceparent"
TRACESTATE_ATTRIBUTE = "tracestate"
"""The CloudEvents distributed-tracing extension (W3C trace context). Any sender may set it;
Pantau uses it for correlation only (a span's parent or link), never to decide anything. Intake
replaces it with its own span's context when forwarding (``pantau_platform.tracing``)."""
MAX_TRACE_ATTRIBUTE = 512  # longer values are not kept (ValidatedEvent.traceparent/tracestate)


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with an event: where (a dotted path), what, and what is expected."""

    field: str
    problem: str
    expected: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem, "expected": self.expected}


class ContractViolation(ValueError):
    """An event breaks the contract. ``problems`` lists every field at fault, not just the first."""

    def __init__(self, problems: list[FieldProblem], *, event_id: str | None = None,
                 source: str | None = None, event_type: str | None = None) -> None:
        self.problems = problems
        self.event_id = event_id
        self.source = source
        self.event_type = event_type
        super().__init__("; ".join(f"{p.field}: {p.problem}" for p in problems))

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "source": self.source,
            "type": self.event_type,
            "errors": [p.as_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class ValidatedEvent:
    """An event whose envelope and payload passed the contract.

    ``payload`` is the frozen pydantic model for (``type``, ``version``); ``raw`` keeps the exact
    structured-mode JSON so it can be forwarded byte-for-byte.
    """

    id: str
    source: str
    type: str
    version: int
    time: datetime
    subject: str | None
    sequence: int | None
    jurisdiction: str
    department: str
    payload: BaseModel
    raw: bytes = field(repr=False)
    received: datetime | None = None
    """When intake received it (``pantaureceived``); None on an event not stamped yet."""
    traceparent: str | None = None
    tracestate: str | None = None
    """Its distributed-tracing attributes as sent (opaque strings; correlation only)."""

    @property
    def dedup_key(self) -> tuple[str, str]:
        """CloudEvents identity: (source, id) is unique per event, retries included."""
        return (self.source, self.id)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``, e.g. ``2026-12-01T08:15:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp with an offset (``Z`` allowed) as an aware UTC datetime; raises
    ``ValueError`` for anything else."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 has no UTC date
        raise ValueError("out of range in UTC") from exc


def stamp_received(event: ValidatedEvent, at: datetime) -> ValidatedEvent:
    """The event with intake's ``pantaureceived`` set to ``at`` (in ``raw`` and ``received``).

    ``raw`` is re-serialised once here: what intake forwards is the department's event plus the
    one attribute intake owns. Everything else is kept as sent."""
    document = json.loads(event.raw)
    document[RECEIVED_ATTRIBUTE] = format_time(at)
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return dataclasses.replace(event, raw=raw, received=at.astimezone(UTC))


def parse_source(source: str) -> tuple[str, str]:
    """Return (jurisdiction, department) from a Pantau ``source`` or raise ``ContractViolation``."""
    match = SOURCE_PATTERN.match(source or "")
    if not match:
        raise ContractViolation([FieldProblem(
            "source", f"{source!r} does not name a jurisdiction and a department",
            "/{jurisdiction}/{department}, e.g. /kota-bandung/dpmptsp")])
    return match["jurisdiction"], match["department"]


def make_event(*, type: str, source: str, data: dict[str, Any] | BaseModel,
               subject: str | None = None, sequence: int | None = None,
               id: str | None = None, time: datetime | None = None,
               dataschema: str | None = None, **extensions: Any) -> CloudEvent:
    """Build a CloudEvent with Pantau's conventions (JSON data, UTC time, sequence extension)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    attributes: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": id or str(uuid.uuid4()),
        "source": source,
        "type": type,
        "time": (time or datetime.now(UTC)).astimezone(UTC),
        "datacontenttype": "application/json",
    }
    if subject is not None:
        attributes["subject"] = subject
    if sequence is not None:
        attributes["sequence"] = sequence
    if dataschema is not None:
        attributes["dataschema"] = dataschema
    attributes.update({k: v for k, v in extensions.items() if v is not None})
    return CloudEvent(attributes, data)


def event_to_json(event: CloudEvent) -> bytes:
    """Structured-mode JSON bytes (``application/cloudevents+json``)."""
    return _FORMAT.write(event)


def event_from_json(body: bytes | str) -> CloudEvent:
    """Parse structured-mode JSON into a CloudEvent; bad envelopes raise ``ContractViolation``."""
    raw = json.loads(body) if isinstance(body, (bytes, str)) else body
    if not isinstance(raw, dict):
        raise ContractViolation([FieldProblem("", "the body is not a JSON object",
                                              "a CloudEvents 1.0 JSON object")])
    return envelope_from_dict(raw)


def envelope_from_dict(raw: dict[str, Any]) -> CloudEvent:
    """Build a CloudEvent from an already-decoded structured-mode dict, checking Pantau's rules."""
    problems: list[FieldProblem] = []
    for name in ("specversion", "id", "source", "type", "time"):
        value = raw.get(name)
        if value in (None, ""):
            problems.append(FieldProblem(name, "is missing", _EXPECTED[name]))
        elif not isinstance(value, str):
            problems.append(FieldProblem(name, f"must be a string, got {type(value).__name__}",
                                         _EXPECTED[name]))
    if isinstance(raw.get("specversion"), str) and raw["specversion"] != SPECVERSION:
        problems.append(FieldProblem("specversion", f"{raw['specversion']!r} is not supported",
                                     '"1.0"'))
    attrs = {k: v for k, v in raw.items() if k not in ("data", "data_base64")}
    if isinstance(raw.get("time"), str):
        try:
            attrs["time"] = parse_time(raw["time"])
        except ValueError:
            problems.append(FieldProblem("time", f"{raw['time']!r} is not an RFC 3339 timestamp",
                                         _EXPECTED["time"]))
        else:
            if not EARLIEST_TIME <= attrs["time"] < LATEST_TIME:
                problems.append(FieldProblem("time", f"{raw['time']!r} is out of range",
                                             f"from {EARLIEST_TIME.year} to before "
                                             f"{LATEST_TIME.year}"))
    if RECEIVED_ATTRIBUTE in raw:
        received = raw[RECEIVED_ATTRIBUTE]
        try:
            parse_time(received if isinstance(received, str) else "")
        except ValueError:
            problems.append(FieldProblem(RECEIVED_ATTRIBUTE, f"{received!r} is not an RFC 3339 "
                                         "timestamp", "set by intake only"))
    if "sequence" in raw:
        seq = raw["sequence"]
        if isinstance(seq, str) and seq.isdigit():
            attrs["sequence"] = int(seq)
        elif not (isinstance(seq, int) and not isinstance(seq, bool)) or seq < 0:
            problems.append(FieldProblem("sequence", f"{seq!r} is not a non-negative integer",
                                         "an integer that grows with each event of a case"))
        if isinstance(attrs.get("sequence"), int) and attrs["sequence"] > MAX_SEQUENCE:
            problems.append(FieldProblem("sequence", "is too large",
                                         f"an integer from 0 to {MAX_SEQUENCE}"))
    if "data_base64" in raw:
        problems.append(FieldProblem("data_base64", "binary data is not accepted",
                                     "a JSON object in 'data'"))
    content_type = str(raw.get("datacontenttype", "application/json"))
    if not content_type.startswith("application/json"):
        problems.append(FieldProblem("datacontenttype", f"{content_type!r} is not JSON",
                                     "application/json"))
    if not isinstance(raw.get("data"), dict):
        problems.append(FieldProblem("data", "is missing or not a JSON object",
                                     "a JSON object with the event's payload"))
    problems.extend(_string_problems(raw))
    for name in attrs:
        if not re.fullmatch(r"[a-z0-9]{1,20}", name):
            problems.append(FieldProblem(name, "is not a valid CloudEvents attribute name",
                                         "lower-case letters and digits, at most 20"))
    if problems:
        raise ContractViolation(problems, event_id=_str_or_none(raw.get("id")),
                                source=_str_or_none(raw.get("source")),
                                event_type=_str_or_none(raw.get("type")))
    try:
        return CloudEvent(attrs, raw["data"])
    except Exception as exc:  # the SDK reports several attribute errors at once
        raise ContractViolation([FieldProblem("", str(exc), "a CloudEvents 1.0 envelope")],
                                event_id=_str_or_none(raw.get("id")),
                                source=_str_or_none(raw.get("source")),
                                event_type=_str_or_none(raw.get("type"))) from exc


def _string_problems(raw: dict[str, Any]) -> list[FieldProblem]:
    """String attributes that could not be stored: too long an identity, an unsafe character."""
    problems = []
    for name in ("id", "source"):
        value = raw.get(name)
        if isinstance(value, str) and len(value) > MAX_IDENTITY_LENGTH:
            problems.append(FieldProblem(name, f"has {len(value)} characters",
                                         f"at most {MAX_IDENTITY_LENGTH} characters"))
    for name, value in raw.items():
        found = unsafe_character(value) if isinstance(value, str) else None
        if found is not None:
            problems.append(FieldProblem(name, f"contains a control character or "
                                         f"non-character ({found})", "printable text"))
    return problems


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_EXPECTED = {
    "specversion": '"1.0"',
    "id": "a string unique per source, e.g. a UUID; retries reuse it",
    "source": "/{jurisdiction}/{department}, e.g. /kota-bandung/dpmptsp",
    "type": "one of the Pantau event types, e.g. case.submitted",
    "time": "an RFC 3339 timestamp with offset, e.g. 2026-03-02T08:15:00+07:00",
}
