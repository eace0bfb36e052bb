"""``domain.outcomes.parse`` and ``service.outcomes.OutcomeRecorder`` with a hand-written store:
the department comes from the routing key, redelivery is idempotent, webhook deliveries are
enqueued in the outcome's transaction and only for what the department subscribed to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pantau_contracts import event_to_json, make_event
from pantau_contracts.payloads.tracking import EventAppliedV1, EventRejectedV1
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.outcomes import CaseNotice, EventOutcome, parse
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.domain.webhooks import Webhook
from pantau_intake.service.outcomes import OutcomeRecorder
from tests.unit.intake.outcome_fakes import FakeOutcomeStore

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DEPT = DepartmentRef("kota-bandung", "dpmptsp")


def rejected(event_id: str, *, source: str = "/kota-bandung/dpmptsp") -> bytes:
    data = EventRejectedV1(event_id=event_id, event_source=source, event_type="case.resumed",
                           receipt_number="BDG-PBG-1", stage="tracking", reason="stage-order",
                           detail="not returned", rejected_at=T0)
    return event_to_json(make_event(type="event.rejected", source="/kota-bandung/tracking",
                                    data=data, id=f"rejected:{source}:{event_id}"))


def applied(event_id: str) -> bytes:
    data = EventAppliedV1(event_id=event_id, event_source="/kota-bandung/dpmptsp",
                          event_type="case.submitted", receipt_number="BDG-PBG-1", revision=1,
                          applied_at=T0)
    return event_to_json(make_event(type="event.applied", source="/kota-bandung/tracking",
                                    data=data, id=f"applied:{event_id}"))


def overdue() -> bytes:
    return json.dumps({"specversion": "1.0", "id": "BDG-PBG-1:3:overdue",
                       "source": "/kota-bandung/tracking", "type": "case.overdue",
                       "data": {"receipt_number": "BDG-PBG-1", "jurisdiction_code":
                                "kota-bandung", "department_code": "dpmptsp"}}).encode()


def test_parse_takes_the_department_from_the_routing_key_not_the_event() -> None:
    forged = parse("pantau.feedback", "kota-bandung.dinkes",
                   rejected("e1", source="/kota-bandung/dpmptsp"))
    assert isinstance(forged, EventOutcome)
    assert forged.department == DepartmentRef("kota-bandung", "dinkes")  # its real sender
    ok = parse("pantau.feedback", "applied.kota-bandung.dpmptsp", applied("e2"))
    assert isinstance(ok, EventOutcome) and ok.outcome == "applied" and ok.revision == 1
    notice = parse("pantau.cases", "case.overdue.kota-bandung", overdue())
    assert notice == CaseNotice(DEPT, "BDG-PBG-1", "case.overdue", overdue(),
                                "BDG-PBG-1:3:overdue")  # its id: the delivery key


@pytest.mark.parametrize(("exchange", "key", "body"), [
    ("pantau.feedback", "kota-bandung.dpmptsp", b"not json"),
    ("pantau.feedback", "kota-bandung", b'{"type": "event.rejected", "data": {}}'),
    ("pantau.feedback", "kota-bandung.dpmptsp", b'{"type": "case.updated", "data": {}}'),
    ("pantau.cases", "case.updated.x", b'{"type": "case.updated", "data": {"case": 1}}'),
    ("pantau.feedback", "Kota.X", b'{"type": "event.rejected", "data": {}}')])
def test_what_is_not_an_outcome_is_ignored(exchange: str, key: str, body: bytes) -> None:
    assert parse(exchange, key, body) is None


def messages(*pairs: tuple[str, str, bytes]) -> list[EventOutcome | CaseNotice]:
    parsed = [parse(*pair) for pair in pairs]
    assert all(p is not None for p in parsed)
    return [p for p in parsed if p is not None]


def test_outcomes_are_stored_once_and_refusals_enqueued_once() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, "https://x.example/h")})
    batch = messages(("pantau.feedback", "kota-bandung.dpmptsp", rejected("e1")),
                     ("pantau.feedback", "applied.kota-bandung.dpmptsp", applied("e2")))
    recorder = OutcomeRecorder(store)
    assert recorder.record(batch).outcomes == 2
    again = recorder.record(batch)  # redelivered
    assert (again.outcomes, again.deliveries) == (0, 0)
    assert [r.delivery.event_type for r in store.rows] == ["event.rejected"]  # applied: none


def test_case_notices_only_for_subscribers_and_never_twice() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, "https://x.example/h",
                                                      ("refusals", "overdue"))})
    recorder = OutcomeRecorder(store)
    notice = messages(("pantau.cases", "case.overdue.kota-bandung", overdue()))
    assert recorder.record(notice).deliveries == 1
    assert recorder.record(notice).deliveries == 1  # offered again; the outbox keeps one
    assert len(store.rows) == 1
    assert store.rows[0].message_id == "BDG-PBG-1:3:overdue"  # the delivery's key
    store.hooks[DEPT] = Webhook(DEPT, "https://x.example/h", ("refusals",))
    store.rows.clear()
    assert recorder.record(notice).deliveries == 0 and store.rows == []


def test_no_webhook_no_delivery_and_a_failed_transaction_keeps_nothing() -> None:
    store = FakeOutcomeStore(T0)
    recorder = OutcomeRecorder(store)
    recorder.record(messages(("pantau.feedback", "kota-bandung.dpmptsp", rejected("e1"))))
    assert store.rows == [] and len(store.outcomes) == 1
    store.fail = True
    with pytest.raises(StoreUnavailable):
        recorder.record(messages(("pantau.feedback", "kota-bandung.dpmptsp", rejected("e9"))))
    assert len(store.outcomes) == 1
