"""``OutcomeRecorder``: store what became of departments' events and enqueue their webhooks.

``record(messages)`` takes one batch of ``intake.outcomes`` (already parsed by
``domain.outcomes.parse``) and, in ONE transaction: stores the outcomes not stored yet (a
redelivered batch stores nothing new), then enqueues a webhook delivery for every NEW refusal and
every case notice whose department has a webhook subscribed to that event type (the outbox: the
delivery exists if and only if the outcome was committed). Enqueueing is idempotent per
(department, message id), so a redelivered case notice is not delivered twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pantau_intake.domain.outcomes import CaseNotice, EventOutcome, Message
from pantau_intake.domain.webhooks import NewDelivery
from pantau_intake.service.ports import OutcomeStore


@dataclass(frozen=True)
class Recorded:
    outcomes: int
    deliveries: int


class OutcomeRecorder:
    def __init__(self, store: OutcomeStore) -> None:
        self._store = store

    def record(self, messages: Sequence[Message]) -> Recorded:
        outcomes = [m for m in messages if isinstance(m, EventOutcome)]
        notices = [m for m in messages if isinstance(m, CaseNotice)]
        with self._store.transaction() as uow:
            new = uow.record_outcomes(outcomes) if outcomes else []
            candidates = [NewDelivery(o.department, o.message_id, o.receipt_number or "",
                                      "event.rejected", o.body)
                          for o in new if o.outcome == "refused"]
            candidates += [NewDelivery(n.department, n.message_id, n.receipt_number,
                                       n.event_type, n.body) for n in notices]
            if not candidates:
                return Recorded(len(new), 0)
            hooks = uow.webhooks({c.department for c in candidates})
            wanted = [c for c in candidates
                      if c.department in hooks and hooks[c.department].wants(c.event_type)]
            if wanted:
                uow.enqueue(wanted)
            return Recorded(len(new), len(wanted))

