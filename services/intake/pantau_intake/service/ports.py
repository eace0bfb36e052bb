"""Every port of intake: what the use cases need from the world, as ``Protocol``s.

The edge (``service.authentication``, ``service.authorisation``, ``service.acceptance``,
``service.ingress``): ``KeyResolver`` (an active key by id; ``adapters.credential_store``),
``SignatureLedger`` (replay memory, atomic insert-if-absent; ``adapters.seen_signatures``),
``ServiceDirectory`` (the service catalogue; ``adapters.directory``), ``AcceptedEvents`` (the
memory of accepted events; ``adapters.accepted_events``), ``Forwarder`` (confirmed publish to
``pantau.accepted``; ``adapters.forwarder``), ``RefusalFeedback`` (the ``event.rejected``
record for a refused message's sender; ``adapters.refusals`` — the dead letter itself is the
shared batch consumer's).  The status API (``service.event_status``):
``OutcomeReader`` and ``AcceptedReader``. Per-process implementations that need no I/O live
next to their use case or domain (``SeenSignatures``, ``RecentEvents``).

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

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pantau_contracts import ValidatedEvent
from pantau_intake.domain.authentication import ActiveKey
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.idempotency import AcceptedRecord, EventKey
from pantau_intake.domain.messages import RefusalRecord
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


# --- The edge: authentication, authorisation, acceptance, the AMQP ingress ---------------


class KeyResolver(Protocol):
    """Port: find an active (not revoked) key by id, with its secret; None if unknown/revoked."""

    def resolve(self, key_id: str) -> ActiveKey | None: ...


class SignatureLedger(Protocol):
    """Port: the memory of (key id, signature) pairs used inside the replay window.

    ``remember`` records the pair seen at ``now`` (unix seconds) and returns True on first use,
    False if the pair is already remembered and not expired (a replay). It must be atomic across
    every process sharing the ledger. May raise ``StoreUnavailable``.
    """

    def remember(self, key_id: str, digest: str, now: float) -> bool: ...


class ServiceDirectory(Protocol):
    """Port onto the service catalogue."""

    def has_department(self, jurisdiction: str, department: str) -> bool:
        """True if the jurisdiction's catalogue lists the department."""
        ...

    def department_of_service(self, jurisdiction: str, service_code: str) -> str | None:
        """The department code owning the service, or None if there is no such service."""
        ...

    def owns_receipt(self, jurisdiction: str, department: str, receipt: str) -> bool:
        """True if ``receipt`` starts with one of the department's receipt prefixes."""
        ...

    def receipt_prefixes(self, jurisdiction: str, department: str) -> tuple[str, ...]:
        """The department's receipt prefixes (empty if the department is unknown)."""
        ...


class AcceptedEvents(Protocol):
    """Port: the memory of accepted events.

    ``find`` returns the records of those ``keys`` that are remembered (and not expired);
    ``record`` remembers events after the broker confirmed them. ``record`` never overwrites a
    live entry (the first accepted content wins) and may be called again for the same keys.
    Both raise ``StoreUnavailable`` when the backing store cannot be reached.
    """

    def find(self, keys: Collection[EventKey]) -> dict[EventKey, AcceptedRecord]: ...

    def record(self, records: Mapping[EventKey, AcceptedRecord]) -> None: ...


class Forwarder(Protocol):
    """Port: forward validated events to ``pantau.accepted``; return only after broker confirms,
    in the given order, as structured-mode CloudEvents JSON with message_id = event id."""

    def forward(self, events: Sequence[ValidatedEvent]) -> None: ...


class RefusalFeedback(Protocol):
    """Port: tell a department why its messages were refused, in their order, all at once
    (best effort: the dead letters, already confirmed, keep the reasons)."""

    def feedback(self, department: DepartmentRef, records: Sequence[RefusalRecord]) -> None: ...


# --- The status API (``service.event_status``) -------------------------------------------


class OutcomeReader(Protocol):
    def outcome(self, department: DepartmentRef, event_id: str) -> dict[str, Any] | None: ...

    def refusals(self, department: DepartmentRef, after: int,
                 limit: int) -> list[dict[str, Any]]: ...


class AcceptedReader(Protocol):
    def accepted_at(self, source: str, event_id: str) -> datetime | None: ...


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
