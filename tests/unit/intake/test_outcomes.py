"""``domain.outcomes.parse`` and ``service.outcomes.OutcomeRecorder`` with a hand-written store:
the department comes from the routing key, redelivery is idempotent, webhook deliveries are
enqueued in the outcome's transaction and only for what the department subscribed to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pantau_contracts import event_to_json, make_event
from pantau_contracts.envelope import (
    CAUSE_ID_ATTRIBUTE,
    CAUSE_SOURCE_ATTRIBUTE,
    CAUSE_TYPE_ATTRIBUTE,
)
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


def updated(event_id: str | None, *, revision: int = 2) -> bytes:
    """A ``case.updated`` as tracking writes it: naming the applied event (``pantaucause*``),
    or no event (a timer's change)."""
    cause = {} if event_id is None else {CAUSE_SOURCE_ATTRIBUTE: "/kota-bandung/dpmptsp",
                                         CAUSE_ID_ATTRIBUTE: event_id,
                                         CAUSE_TYPE_ATTRIBUTE: "case.stage_changed"}
    return json.dumps({"specversion": "1.0", "id": f"BDG-PBG-1:{revision}:updated",
                       "source": "/kota-bandung/tracking", "type": "case.updated",
                       "time": "2026-03-02T08:00:00Z", "sequence": revision, **cause,
                       "data": {"change": "stage", "case": {
                           "receipt_number": "BDG-PBG-1", "jurisdiction_code": "kota-bandung",
                           "department_code": "dpmptsp"}}}).encode()


def test_parse_takes_the_department_from_the_routing_key_not_the_event() -> None:
    [forged] = parse("pantau.feedback", "kota-bandung.dinkes",
                     rejected("e1", source="/kota-bandung/dpmptsp"))
    assert isinstance(forged, EventOutcome)
    assert forged.department == DepartmentRef("kota-bandung", "dinkes")  # its real sender
    [ok] = parse("pantau.feedback", "applied.kota-bandung.dpmptsp", applied("e2"))
    assert isinstance(ok, EventOutcome) and ok.outcome == "applied" and ok.revision == 1
    [notice] = parse("pantau.cases", "case.overdue.kota-bandung", overdue())
    assert notice == CaseNotice(DEPT, "BDG-PBG-1", "case.overdue", overdue(),
                                "BDG-PBG-1:3:overdue")  # its id: the delivery key


def test_a_case_updated_naming_its_event_is_that_events_applied_outcome() -> None:
    """One message per applied event: the public record for webhooks, and the "applied" of the
    event it names, for the case's own department."""
    applied_outcome, notice = parse("pantau.cases", "case.updated.kota-bandung", updated("e7"))
    assert isinstance(notice, CaseNotice) and notice.event_type == "case.updated"
    assert isinstance(applied_outcome, EventOutcome)
    assert (applied_outcome.department, applied_outcome.source, applied_outcome.event_id,
            applied_outcome.event_type, applied_outcome.receipt_number,
            applied_outcome.outcome, applied_outcome.revision, applied_outcome.at) == (
        DEPT, "/kota-bandung/dpmptsp", "e7", "case.stage_changed", "BDG-PBG-1", "applied", 2,
        T0)
    assert applied_outcome.key == parse("pantau.feedback", "applied.kota-bandung.dpmptsp",
                                        applied("e7"))[0].key  # reported both ways: one row
    [timer_made] = parse("pantau.cases", "case.updated.kota-bandung", updated(None))
    assert isinstance(timer_made, CaseNotice)


@pytest.mark.parametrize(("exchange", "key", "body"), [
    ("pantau.feedback", "kota-bandung.dpmptsp", b"not json"),
    ("pantau.feedback", "kota-bandung", b'{"type": "event.rejected", "data": {}}'),
    ("pantau.feedback", "kota-bandung.dpmptsp", b'{"type": "case.updated", "data": {}}'),
    ("pantau.cases", "case.updated.x", b'{"type": "case.updated", "data": {"case": 1}}'),
    ("pantau.feedback", "Kota.X", b'{"type": "event.rejected", "data": {}}')])
def test_what_is_not_an_outcome_is_ignored(exchange: str, key: str, body: bytes) -> None:
    assert parse(exchange, key, body) == []


def messages(*pairs: tuple[str, str, bytes]) -> list[EventOutcome | CaseNotice]:
    parsed = [parse(*pair) for pair in pairs]
    assert all(parsed)
    return [m for found in parsed for m in found]


def test_outcomes_are_stored_once_and_refusals_enqueued_once() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, "https://x.example/h")})
    batch = messages(("pantau.feedback", "kota-bandung.dpmptsp", rejected("e1")),
                     ("pantau.feedback", "applied.kota-bandung.dpmptsp", applied("e2")),
                     ("pantau.cases", "case.updated.kota-bandung", updated("e2")),
                     ("pantau.cases", "case.updated.kota-bandung", updated("e3", revision=3)))
    recorder = OutcomeRecorder(store)
    assert recorder.record(batch).outcomes == 3  # e2 reported both ways counts once
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
