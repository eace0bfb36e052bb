"""Which payload model belongs to which event type and version, and full event validation."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from pantau_contracts.envelope import (
    MAX_TRACE_ATTRIBUTE,
    RECEIVED_ATTRIBUTE,
    TRACEPARENT_ATTRIBUTE,
    TRACESTATE_ATTRIBUTE,
    ContractViolation,
    FieldProblem,
    ValidatedEvent,
    envelope_from_dict,
    parse_source,
    parse_time,
)
from pantau_contracts.payloads import department, tracking

# (type, version) -> model. Types departments may emit are listed in DEPARTMENT_EVENT_TYPES.
EVENT_TYPES: dict[tuple[str, int], type[BaseModel]] = {
    ("case.submitted", 1): department.CaseSubmittedV1,
    ("case.stage_started", 1): department.CaseStageStartedV1,
    ("case.returned", 1): department.CaseReturnedV1,
    ("case.resumed", 1): department.CaseResumedV1,
    ("case.rejected", 1): department.CaseRejectedV1,
    ("case.completed", 1): department.CaseCompletedV1,
    ("case.withdrawn", 1): department.CaseWithdrawnV1,
    ("case.updated", 1): tracking.CaseUpdatedV1,
    ("case.updated", 2): tracking.CaseUpdatedV2,
    ("case.overdue", 1): tracking.CaseOverdueV1,
    ("event.rejected", 1): tracking.EventRejectedV1,
    ("event.applied", 1): tracking.EventAppliedV1,
}
DEPARTMENT_EVENT_TYPES = frozenset(t for (t, _v) in EVENT_TYPES if t.startswith("case.")
                                   and t not in ("case.updated", "case.overdue"))
LATEST_VERSION: dict[str, int] = {}
for _type, _number in EVENT_TYPES:
    LATEST_VERSION[_type] = max(_number, LATEST_VERSION.get(_type, 0))

SCHEMA_BASE = "https://schemas.pantau.id"
_DATASCHEMA = re.compile(r"/(?P<type>[a-z_.]+)/v(?P<version>\d+)(\.json)?$")


def dataschema_for(event_type: str, version: int) -> str:
    """The ``dataschema`` URI naming a payload version, e.g. .../case.submitted/v1.json."""
    return f"{SCHEMA_BASE}/{event_type}/v{version}.json"


def payload_model(event_type: str, version: int | None = None) -> type[BaseModel]:
    return EVENT_TYPES[(event_type, version or LATEST_VERSION[event_type])]


def validate_event(body: bytes | str | dict[str, Any], *,
                   allowed_types: frozenset[str] = DEPARTMENT_EVENT_TYPES,
                   inbound: bool = False) -> ValidatedEvent:
    """Validate a structured-mode CloudEvent completely: envelope, source, type, payload.

    Raises ``ContractViolation`` listing every problem with the field, what was wrong and what is
    expected. ``dataschema`` may pick a payload version; without it the latest is used.
    ``inbound``: the event comes straight from a department, so intake-owned attributes
    (``pantaureceived``) are refused, naming the attribute.
    """
    if isinstance(body, dict):
        raw = body
    else:
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContractViolation([FieldProblem("", f"the body is not valid UTF-8 JSON ({exc})",
                                                  "a CloudEvents 1.0 JSON object")]) from exc
        except RecursionError as exc:  # e.g. 100 KB of "[": a refusal, never a crash
            raise ContractViolation([FieldProblem("", "the JSON is nested too deeply to read",
                                                  "a CloudEvents 1.0 JSON object")]) from exc
    if not isinstance(raw, dict):
        raise ContractViolation([FieldProblem("", "the body is not a JSON object",
                                              "a CloudEvents 1.0 JSON object")])
    ids = {"event_id": raw.get("id"), "source": raw.get("source"), "event_type": raw.get("type")}
    if inbound and RECEIVED_ATTRIBUTE in raw:
        raise ContractViolation([FieldProblem(
            RECEIVED_ATTRIBUTE, "is set by Pantau's intake when it receives the event; a sender "
            "may not set it", f"no {RECEIVED_ATTRIBUTE} attribute (put the moment the step "
            "happened in 'time')")], **ids)
    event = envelope_from_dict(raw)
    jurisdiction, department_code = _source(raw["source"], ids)
    event_type = raw["type"]
    if event_type not in allowed_types:
        raise ContractViolation([FieldProblem("type", f"{event_type!r} is not accepted here",
                                              "one of " + ", ".join(sorted(allowed_types)))], **ids)
    version = _version(event_type, raw.get("dataschema"), ids)
    model = EVENT_TYPES[(event_type, version)]
    try:
        payload = model.model_validate(raw["data"])
    except ValidationError as exc:
        raise ContractViolation([_problem(err, model) for err in exc.errors()], **ids) from exc
    receipt = getattr(payload, "receipt_number", None)
    subject = raw.get("subject")
    if subject is not None and receipt is not None and subject != receipt:
        raise ContractViolation([FieldProblem("subject", f"{subject!r} differs from "
                                              f"data.receipt_number {receipt!r}",
                                              "the receipt number, or no subject")], **ids)
    time = event.get_time()
    assert isinstance(time, datetime)
    received = raw.get(RECEIVED_ATTRIBUTE)
    return ValidatedEvent(
        id=raw["id"], source=raw["source"], type=event_type, version=version, time=time,
        subject=subject or receipt, sequence=event.get_extension("sequence"),
        jurisdiction=jurisdiction, department=department_code, payload=payload,
        raw=body if isinstance(body, bytes) else json.dumps(raw).encode(),
        received=parse_time(received) if isinstance(received, str) else None,
        traceparent=_trace_attribute(raw, TRACEPARENT_ATTRIBUTE),
        tracestate=_trace_attribute(raw, TRACESTATE_ATTRIBUTE),
    )


def _trace_attribute(raw: dict[str, Any], name: str) -> str | None:
    """A distributed-tracing attribute as sent (opaque: correlation only, never a decision)."""
    value = raw.get(name)
    return value if isinstance(value, str) and len(value) <= MAX_TRACE_ATTRIBUTE else None


def _source(source: str, ids: dict[str, Any]) -> tuple[str, str]:
    try:
        return parse_source(source)
    except ContractViolation as exc:
        raise ContractViolation(exc.problems, **ids) from exc


def _version(event_type: str, dataschema: Any, ids: dict[str, Any]) -> int:
    if dataschema is None:
        return LATEST_VERSION[event_type]
    match = _DATASCHEMA.search(str(dataschema))
    known_version = match is not None and (event_type, int(match["version"])) in EVENT_TYPES
    if match is None or match["type"] != event_type or not known_version:
        known = sorted(v for (t, v) in EVENT_TYPES if t == event_type)
        raise ContractViolation([FieldProblem(
            "dataschema", f"{dataschema!r} is not a known schema for {event_type}",
            " or ".join(dataschema_for(event_type, v) for v in known) + ", or omit it")], **ids)
    return int(match["version"])


def _problem(err: Any, model: type[BaseModel]) -> FieldProblem:
    path = "data." + ".".join(str(p) for p in err["loc"]) if err["loc"] else "data"
    kind = err["type"]
    if kind == "missing":
        return FieldProblem(path, "is required", _describe(model, err["loc"]))
    if kind == "extra_forbidden":
        return FieldProblem(path, "is not a field of this event",
                            "only: " + ", ".join(_fields_at(model, err["loc"][:-1])))
    error = (err.get("ctx") or {}).get("error")
    if kind == "value_error" and isinstance(error, ValueError):  # our validators' own words,
        return FieldProblem(path, str(error), _describe(model, err["loc"]))  # no "Value error, "
    return FieldProblem(path, err["msg"], _describe(model, err["loc"]))


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        info = getattr(current, "model_fields", {}).get(part)
        if info is None:
            return []
        current = _inner_model(info.annotation)
    return list(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def _describe(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    current: Any = model
    info = None
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return ""
        info = fields[part]
        current = _inner_model(info.annotation)
    if info is None:
        return ""
    parts = [info.description or ""]
    for meta in info.metadata:
        pattern = getattr(meta, "pattern", None)
        if pattern:
            parts.append(f"matching {pattern}")
        max_length = getattr(meta, "max_length", None)
        if max_length:
            parts.append(f"at most {max_length} characters")
        expected = getattr(meta, "expected", None)
        if isinstance(expected, str):
            parts.append(expected)
    annotation = info.annotation
    if getattr(annotation, "__origin__", None) is not None and "Literal" in str(annotation):
        parts.append("one of " + ", ".join(map(str, annotation.__args__)))
    return "; ".join(p for p in parts if p)
