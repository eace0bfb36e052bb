"""Ports of intake's service layer that are not the domain's: what the use cases report.

``EventMetrics`` is how a use case counts what happened to each event without knowing
Prometheus: the adapter is ``pantau_platform.metrics.EventCounters``; ``NoMetrics`` (the default)
and the unit tests' fakes record nothing or record in memory. Labels must stay bounded: pass the
event's type and the *authenticated* sender's jurisdiction and department, never ids.

The outcomes ports: ``OutcomeStore`` (outcomes and the webhook outbox in one transaction),
``DeliveryStore`` (claim and settle deliveries), ``SigningKeys`` (a department's current key),
``WebhookPoster`` (bounded concurrent POSTs). Adapters: ``adapters.outcome_store``,
``adapters.webhook_http``; unit tests use hand-written fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.outcomes import EventOutcome
from pantau_intake.domain.webhooks import (
    Attempt,
    NewDelivery,
    PendingDelivery,
    Settlement,
    Webhook,
)


class EventMetrics(Protocol):
    def received(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None: ...

    def accepted(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None: ...

    def refused(self, event_type: str | None, jurisdiction: str | None, department: str | None,
                reason: str) -> None: ...

    def dead_lettered(self, queue: str, event_type: str | None, jurisdiction: str | None,
                      department: str | None, reason: str) -> None: ...


class NoMetrics:
    """Records nothing (the default: unit tests and tools need no metrics)."""

    def received(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None:
        return None

    def accepted(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None:
        return None

    def refused(self, event_type: str | None, jurisdiction: str | None, department: str | None,
                reason: str) -> None:
        return None

    def dead_lettered(self, queue: str, event_type: str | None, jurisdiction: str | None,
                      department: str | None, reason: str) -> None:
        return None


# --- Outcomes and webhooks (``service.outcomes``, ``service.webhook_delivery``) -------------


class OutcomeUnitOfWork(Protocol):
    """One transaction on intake's database (the outcomes and the webhook outbox together)."""

    def record_outcomes(self, outcomes: Sequence[EventOutcome]) -> list[EventOutcome]:
        """Store outcomes not stored yet (idempotent on (source, id)); returns the new ones."""
        ...

    def webhooks(self, departments: Iterable[DepartmentRef]) -> dict[DepartmentRef, Webhook]:
        ...

    def enqueue(self, deliveries: Sequence[NewDelivery]) -> None:
        """Add deliveries; one already enqueued (same department and message id) is kept."""
        ...


class OutcomeStore(Protocol):
    def transaction(self) -> AbstractContextManager[OutcomeUnitOfWork]: ...


class DeliveryStore(Protocol):
    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[PendingDelivery]:
        """Up to ``limit`` pending deliveries due at ``now``, the oldest of each (department,
        receipt) only, each claimed for ``lease`` (another replica skips it meanwhile)."""
        ...

    def settle(self, delivery: PendingDelivery, settlement: Settlement, now: datetime) -> None:
        ...


class SigningKeys(Protocol):
    def current(self, department: DepartmentRef) -> tuple[str, str] | None:
        """The department's newest active (key id, secret); None if it has none."""
        ...


@dataclass(frozen=True)
class SignedPost:
    url: str
    body: bytes
    headers: dict[str, str]


class WebhookPoster(Protocol):
    def post_all(self, posts: Sequence[SignedPost]) -> list[Attempt]:
        """POST each (never following redirects, a timeout per attempt), at most N at once;
        one ``Attempt`` per post, in order. Never raises for a receiver's failure."""
        ...
