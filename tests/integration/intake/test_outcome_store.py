"""``SqlOutcomeStore`` on SQLite and PostgreSQL: outcomes stored once, refusals by ascending
cursor for their department only, deliveries claimed oldest-first per case with a lease, settled,
replayed, and purged after the retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pantau_intake.adapters.outcome_store import SqlOutcomeStore
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.outcomes import EventOutcome
from pantau_intake.domain.webhooks import NewDelivery, Settlement, Webhook

pytestmark = pytest.mark.integration
DEPT = DepartmentRef("kota-bandung", "dpmptsp")
OTHER = DepartmentRef("kota-bandung", "dinkes")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def refusal(event_id: str, department: DepartmentRef = DEPT) -> EventOutcome:
    return EventOutcome(department, department.source, event_id, "case.resumed", "BDG-PBG-1",
                        "refused", T0, "tracking", "stage-order", "not returned")


def test_outcomes_once_and_refusals_by_cursor(store_url: str) -> None:
    store = SqlOutcomeStore(store_url)
    try:
        with store.transaction() as uow:
            assert len(uow.record_outcomes([refusal("a"), refusal("b"), refusal("x", OTHER)])) == 3
        with store.transaction() as uow:
            assert [o.event_id for o in uow.record_outcomes([refusal("a"), refusal("c")])] == ["c"]
        page = store.refusals(DEPT, 0, 10)
        assert [r["event_id"] for r in page] == ["a", "b", "c"]
        assert [r["event_id"] for r in store.refusals(DEPT, page[0]["id"], 1)] == ["b"]
        assert store.outcome(DEPT, "x") is None and store.outcome(OTHER, "x") is not None
    finally:
        store.dispose()


def test_deliveries_per_case_order_lease_settle_replay_purge(store_url: str) -> None:
    store = SqlOutcomeStore(store_url, retention=timedelta(days=30))
    try:
        store.set_webhook(Webhook(DEPT, "https://x.example/h"))
        with store.transaction() as uow:
            uow.enqueue([NewDelivery(DEPT, f"m{i}", receipt, "event.rejected", b"{}")
                         for i, receipt in enumerate(["R1", "R1", "R2"])])
            uow.enqueue([NewDelivery(DEPT, "m0", "R1", "event.rejected", b"{}")])  # once
        now = datetime.now(UTC) + timedelta(seconds=1)
        claimed = store.claim_due(now, 10, timedelta(minutes=2))
        assert sorted(d.receipt for d in claimed) == ["R1", "R2"]  # R1's second waits
        assert store.claim_due(now, 10, timedelta(minutes=2)) == []  # leased
        first = next(d for d in claimed if d.receipt == "R1")
        store.settle(first, Settlement("dead", None, "HTTP 410 (not retried)"), now)
        later = store.claim_due(now + timedelta(minutes=3), 10, timedelta(minutes=2))
        assert sorted(d.receipt for d in later) == ["R1", "R2"]  # the dead one blocks no more
        dead = store.deliveries(DEPT, dead_only=True)
        assert [d["last_note"] for d in dead] == ["HTTP 410 (not retried)"]
        assert store.replay(DEPT, None, now) == 1
        assert store.deliveries(DEPT, dead_only=True) == []
        for delivery in later:
            store.settle(delivery, Settlement("delivered", None, "HTTP 200"), now)
        assert store.purge_deliveries(now + timedelta(days=31)) == 2  # the replayed one waits
        assert len(store.deliveries(DEPT)) == 1
    finally:
        store.dispose()
