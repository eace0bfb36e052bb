"""Hand-written fakes at the outcomes and webhook ports (unit tests only): an in-memory store
that keeps the same rules as the SQL one (idempotent outcomes and enqueue, per-case order)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.outcomes import EventOutcome
from pantau_intake.domain.webhooks import (
    Attempt,
    NewDelivery,
    PendingDelivery,
    Settlement,
    Webhook,
)
from pantau_intake.service.ports import SignedPost


@dataclass
class Row:
    delivery: PendingDelivery
    message_id: str
    state: str = "pending"
    next_attempt_at: datetime | None = None
    note: str = ""


@dataclass
class FakeOutcomeStore:
    now: datetime
    outcomes: dict[str, EventOutcome] = field(default_factory=dict)
    hooks: dict[DepartmentRef, Webhook] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    fail: bool = False

    @contextmanager
    def transaction(self) -> Iterator[FakeOutcomeStore]:
        if self.fail:
            from pantau_intake.domain.store import StoreUnavailable

            raise StoreUnavailable("database away")
        saved = (dict(self.outcomes), list(self.rows))
        try:
            yield self
        except BaseException:
            self.outcomes, self.rows = saved  # rolled back
            raise

    def record_outcomes(self, outcomes: Sequence[EventOutcome]) -> list[EventOutcome]:
        new = []
        for outcome in outcomes:
            if outcome.key not in self.outcomes:
                self.outcomes[outcome.key] = outcome
                new.append(outcome)
        return new

    def webhooks(self, departments: Iterable[DepartmentRef]) -> dict[DepartmentRef, Webhook]:
        return {d: self.hooks[d] for d in departments if d in self.hooks}

    def enqueue(self, deliveries: Sequence[NewDelivery]) -> None:
        for d in deliveries:
            if any(r.message_id == d.message_id and r.delivery.department == d.department
                   for r in self.rows):
                continue
            pending = PendingDelivery(len(self.rows) + 1, d.department, "", d.receipt,
                                      d.event_type, d.body, 0, self.now)
            self.rows.append(Row(pending, d.message_id, next_attempt_at=self.now))

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[PendingDelivery]:
        claimed: list[PendingDelivery] = []
        for row in self.rows:
            if len(claimed) >= limit or row.state != "pending":
                continue
            assert row.next_attempt_at is not None
            earlier = any(r.state == "pending" and r.delivery.id < row.delivery.id
                          and r.delivery.department == row.delivery.department
                          and r.delivery.receipt == row.delivery.receipt for r in self.rows)
            hook = self.hooks.get(row.delivery.department)
            if earlier or row.next_attempt_at > now or hook is None:
                continue
            row.next_attempt_at = now + lease
            claimed.append(replace(row.delivery, url=hook.url))
        return claimed

    def settle(self, delivery: PendingDelivery, settlement: Settlement, now: datetime) -> None:
        row = next(r for r in self.rows if r.delivery.id == delivery.id)
        row.state, row.note = settlement.state, settlement.note
        row.next_attempt_at = settlement.next_attempt_at
        row.delivery = replace(row.delivery, attempts=delivery.attempts + 1)


class FakeKeys:
    def __init__(self, keys: dict[DepartmentRef, tuple[str, str]]) -> None:
        self.keys = keys

    def current(self, department: DepartmentRef) -> tuple[str, str] | None:
        return self.keys.get(department)


class ScriptedPoster:
    """Answers each URL with the next status of its script (then the last one again)."""

    def __init__(self, script: dict[str, list[int | str]]) -> None:
        self.script = script
        self.posts: list[SignedPost] = []

    def post_all(self, posts: Sequence[SignedPost]) -> list[Attempt]:
        attempts = []
        for post in posts:
            self.posts.append(post)
            answers = self.script[post.url]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            attempts.append(Attempt(status=answer) if isinstance(answer, int)
                            else Attempt(error=answer))
        return attempts
