"""Turning an HTTP request body into events: structured, binary and batched CloudEvents modes.

* structured — ``Content-Type: application/cloudevents+json``; the body is one event; its
  content is what gets forwarded (plus intake's ``pantaureceived`` stamp);
* binary — any ``ce-*`` header present; attributes come from ``ce-*`` headers (percent-decoded),
  the body is the event's ``data`` (``Content-Type: application/json``); parsed with the
  cloudevents SDK's HTTP binding and forwarded as structured JSON;
* batched — ``Content-Type: application/cloudevents-batch+json``; the body is a JSON array of
  structured events.

Anything that is not UTF-8 JSON is a 400 problem; an unknown content type is 415; a valid JSON
event that breaks the contract is a per-event 422 problem (returned, not raised, so a batch can
report every event). Every mode validates the event as *inbound*: one carrying intake's own
``pantaureceived`` attribute is a 422 naming it (``ce-pantaureceived`` in binary mode).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from cloudevents.core.bindings.http import HTTPMessage, from_binary
from cloudevents.core.formats.json import JSONFormat

from pantau_contracts import ContractViolation, FieldProblem, event_to_json, validate_event
from pantau_intake.domain import problems, surrogates
from pantau_intake.domain.problems import Problem
from pantau_intake.service.acceptance import Parsed

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON = "application/json"


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``type/subtype`` in lower case and its parameters."""
    if not content_type:
        return "", {}
    main, *params = content_type.split(";")
    parameters = {}
    for param in params:
        name, _, value = param.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"').lower()
    return main.strip().lower(), parameters


def is_binary_mode(headers: Mapping[str, str]) -> bool:
    return any(name.lower().startswith("ce-") for name in headers)


def is_batch(content_type: str | None) -> bool:
    return media_type(content_type)[0] == BATCH


def parse(content_type: str | None, headers: Mapping[str, str], body: bytes,
          max_batch_events: int) -> tuple[str, list[Parsed]]:
    """Return (mode, events-or-problems). Raises ``Problem`` (400/413/415) for the whole body."""
    media, params = media_type(content_type)
    charset = params.get("charset")
    if charset and charset not in ("utf-8", "utf8"):
        raise problems.unsupported_media_type(content_type or "")
    if is_binary_mode(headers):
        if media and media != JSON and not media.endswith("+json"):
            raise problems.unsupported_media_type(content_type or "")
        return "binary", [_binary(headers, body)]
    if media == STRUCTURED:
        decode_json(body)
        return "structured", [_validated(body)]
    if media == BATCH:
        items = decode_json(body)
        if not isinstance(items, list):
            raise problems.malformed("a batch must be a JSON array of events", [
                FieldProblem("body", "is not a JSON array", "[{event}, {event}, …]")])
        if not items:
            raise problems.malformed("the batch is empty", [
                FieldProblem("body", "has no events", "1 to "
                             f"{max_batch_events} events")])
        if len(items) > max_batch_events:
            raise problems.too_large(max_batch_events, f"batch of {len(items)} events")
        return "batch", [_batch_item(i, item) for i, item in enumerate(items)]
    raise problems.unsupported_media_type(content_type or "(none)")


def decode_json(body: bytes) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity, bounded nesting, no lone surrogate escapes
    (``"\\ud800"``) in keys or values. Raises a 400 ``Problem`` naming the field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise problems.malformed(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})", [
            FieldProblem("body", "is not valid UTF-8", "UTF-8 encoded JSON")]) from exc
    if text.startswith("\ufeff"):
        raise problems.malformed("the body starts with a byte-order mark", [
            FieldProblem("body", "starts with a BOM", "UTF-8 JSON without a BOM")])
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except (json.JSONDecodeError, ValueError) as exc:
        raise problems.malformed(f"the body is not valid JSON ({exc})", [
            FieldProblem("body", "is not valid JSON", "a JSON document")]) from exc
    except RecursionError as exc:
        raise problems.malformed("the JSON is nested too deeply", [
            FieldProblem("body", "is nested too deeply", "a CloudEvents JSON object")]) from exc
    # A "\ud800" escape decodes to text no UTF-8 encoder can write (not even our answer
    # echoing the id), so it is refused here, before anything else looks at the value.
    if surrogates.may_contain(body):
        where = surrogates.find_lone_surrogate(value)
        if where is not None:
            raise problems.malformed(
                f"the JSON contains a lone UTF-16 surrogate escape at {where}",
                [surrogates.problem_at(where)])
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _validated(body: bytes | dict[str, Any]) -> Parsed:
    try:
        return validate_event(body, inbound=True)
    except ContractViolation as exc:
        return problems.invalid_event(exc)


def _batch_item(index: int, item: Any) -> Parsed:
    if not isinstance(item, dict):
        return problems.invalid_event(ContractViolation([FieldProblem(
            f"[{index}]", "is not a JSON object", "a CloudEvents 1.0 JSON object")]))
    parsed = _validated(item)
    if isinstance(parsed, Problem):
        parsed.errors = tuple(FieldProblem(f"[{index}].{p.field}".rstrip("."), p.problem,
                                           p.expected) for p in parsed.errors)
    return parsed


def _binary(headers: Mapping[str, str], body: bytes) -> Parsed:
    data = decode_json(body)
    # First the Pantau rules on the attributes as sent, so every problem names its header
    # (the SDK would, for instance, fill in a missing ``time`` with "now").
    raw: dict[str, Any] = {"data": data}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith("ce-"):
            raw[lower[3:]] = unquote(value)
    checked = _validated(raw)
    if isinstance(checked, Problem):
        checked.errors = tuple(FieldProblem(_header_name(p.field), p.problem, p.expected)
                               for p in checked.errors)
        return checked
    # Then the SDK's HTTP binding builds the event that is forwarded (structured JSON).
    message = HTTPMessage(headers={k.lower(): v for k, v in headers.items()
                                   if k.lower().startswith("ce-") or k.lower() == "content-type"},
                          body=body)
    try:
        structured = event_to_json(from_binary(message, JSONFormat()))
    except Exception:  # noqa: BLE001 - already validated; keep the hand-built form
        return checked
    converted = _validated(structured)
    return checked if isinstance(converted, Problem) else converted


def _header_name(field: str) -> str:
    if not field or field.startswith("data"):
        return field or "body"
    return f"ce-{field}"
