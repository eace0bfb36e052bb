"""Pantau's shared contracts: CloudEvents envelopes, versioned payloads, routing names.

Everything that crosses a process boundary is defined here and nowhere else. Payload models are
frozen pydantic models that forbid unknown fields; their JSON Schemas are generated into
``libs/contracts/schemas`` (``python -m pantau_contracts.schemas --check`` runs in the gate).

This package is plain Python: it may import pydantic and the ``cloudevents`` SDK, never a
framework (nameko, eventlet, kombu, pika, FastAPI, Elasticsearch).
"""

from pantau_contracts.envelope import (
    RECEIVED_ATTRIBUTE,
    ContractViolation,
    FieldProblem,
    ValidatedEvent,
    event_from_json,
    event_to_json,
    make_event,
    parse_source,
    stamp_received,
)
from pantau_contracts.registry import EVENT_TYPES, payload_model, validate_event
from pantau_contracts.vocabulary import Open311Status, PublicStatus

__all__ = [
    "EVENT_TYPES",
    "RECEIVED_ATTRIBUTE",
    "ContractViolation",
    "FieldProblem",
    "Open311Status",
    "PublicStatus",
    "ValidatedEvent",
    "event_from_json",
    "event_to_json",
    "make_event",
    "parse_source",
    "payload_model",
    "stamp_received",
    "validate_event",
]
