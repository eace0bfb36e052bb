"""Intake's clock: when an event is received, and how far ahead of it a claimed ``time`` may be.

Contract:

* ``ReceivedClock`` is the port giving the server's time as an aware UTC ``datetime``;
  ``utc_now`` is the real one. The HTTP path reads it once per request (every event of a batch
  is received at the same moment), the AMQP ingress once per message, when it takes the message.
  That moment is what intake stamps as ``pantaureceived`` on the events it forwards.
* ``refuse_future_time(event, received, max_skew_seconds)`` raises ``ContractViolation`` naming
  ``time`` (with the event's ids) when the department claims a moment later than
  ``received + max_skew_seconds``: a sender's clock a little fast is tolerated, a step that
  "happened" in the future is not. Callers refuse it like any contract breach (HTTP 422
  ``invalid-event``; AMQP dead letter ``invalid-event`` + ``event.rejected``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from pantau_contracts import ContractViolation, FieldProblem, ValidatedEvent
from pantau_contracts.envelope import format_time

ReceivedClock: TypeAlias = Callable[[], datetime]
"""Port: the server's time now, an aware datetime (UTC)."""

DEFAULT_MAX_FUTURE_SKEW_SECONDS = 300


def utc_now() -> datetime:
    """The real ``ReceivedClock``."""
    return datetime.now(UTC)


def refuse_future_time(event: ValidatedEvent, received: datetime,
                       max_skew_seconds: float) -> None:
    """Raise ``ContractViolation`` naming ``time`` if ``event.time`` is later than
    ``received`` plus ``max_skew_seconds``."""
    if event.time <= received + timedelta(seconds=max_skew_seconds):
        return
    skew = _seconds(max_skew_seconds)
    raise ContractViolation([FieldProblem(
        "time",
        f"{format_time(event.time)} is later than the server's time "
        f"({format_time(received)}) plus {skew} s; a step cannot be reported before it happened "
        "(check the sender's clock)",
        f"not later than the server's time plus {skew} s")],
        event_id=event.id, source=event.source, event_type=event.type)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
