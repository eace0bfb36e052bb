"""Tracking's use cases against in-memory fakes of the ports."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pantau_contracts.envelope import (
    CAUSE_ID_ATTRIBUTE,
    CAUSE_SOURCE_ATTRIBUTE,
    CAUSE_TYPE_ATTRIBUTE,
    event_to_json,
    make_event,
    stamp_received,
)
from pantau_contracts.payloads.tracking import CaseUpdatedV2
from pantau_contracts.registry import dataschema_for, validate_event
from pantau_publishing.service.paging import pages
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.domain.public_record import case_sla
from pantau_tracking.service.handler import (
    CONFLICT_RETRIES,
    TrackingHandler,
    as_event,
    latest_local_date,
)
from pantau_tracking.service.ports import StoreUnavailable

from .factories import APPLICANT, CATALOGUE, T0
from .fakes import DatabaseAway, FakeClock, FakeStore, FakeUnitOfWork, KeyConflict


def ev(event_type: str, receipt: str, *, sequence: int | None = None,
       department: str = "dpmptsp", event_id: str | None = None,
       received: datetime | None = None, **data: Any) -> ReceivedEvent:
    """An accepted event claiming ``T0 + sequence`` hours; stamped by intake at ``received``
    if given, else unstamped (as from an intake before the two clocks)."""
    if event_type == "case.submitted":
        data.setdefault("service_code", "pbg")
    if event_type in ("case.returned", "case.rejected"):
        data.setdefault("reason", "Berkas kurang")
    claimed = T0 + timedelta(hours=sequence or 0)
    body = event_to_json(make_event(
        type=event_type, source=f"/kota-bandung/{department}", id=event_id or str(uuid.uuid4()),
        data={"receipt_number": receipt, **data}, sequence=sequence, time=claimed))
    event = validate_event(body)
    if received is not None:
        event = stamp_received(event, received)
    return as_event(event, claimed)  # unstamped: the fallback is the claimed time


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def handler(store: FakeStore) -> TrackingHandler:
    return TrackingHandler(store, CATALOGUE, FakeClock(T0 + timedelta(hours=1)))


def bodies(store: FakeStore) -> list[dict[str, Any]]:
    return [json.loads(m.body) for m in store.state.outbox]


def test_every_applied_event_names_itself_in_one_case_updated(
        handler: TrackingHandler, store: FakeStore) -> None:
    """Intake's status API learns "applied" from the ``case.updated`` the event made (its
    ``pantaucause*`` extensions): one message per applied event, nothing for a duplicate or a
    refusal, nothing on the departments' feedback key."""
    submitted = ev("case.submitted", "BDG-0100", applicant=APPLICANT)
    handler.handle_batch([submitted, submitted, ev("case.stage_started", "BDG-0100",
                                                    stage="nope")])
    updates = [m for m in store.state.outbox if m.message_id.endswith(":updated")]
    assert len(updates) == 1 and len(store.state.outbox) == 2  # + the refusal
    body = json.loads(updates[0].body)
    assert (body[CAUSE_SOURCE_ATTRIBUTE], body[CAUSE_ID_ATTRIBUTE],
            body[CAUSE_TYPE_ATTRIBUTE]) == (submitted.source, submitted.event_id,
                                            "case.submitted")
    assert body["sequence"] == 1 and body["subject"] == "BDG-0100"
    assert APPLICANT["nik"] not in updates[0].body.decode()
    handler.clock.current = T0 + timedelta(days=60)  # type: ignore[attr-defined]
    handler.check_overdue()
    overdue_update = json.loads(store.state.outbox[-2].body)
    assert overdue_update["type"] == "case.updated"
    assert CAUSE_ID_ATTRIBUTE not in overdue_update  # a timer's change names no event


def test_submitted_then_duplicate(handler: TrackingHandler, store: FakeStore) -> None:
    event = ev("case.submitted", "BDG-0001", applicant=APPLICANT)
    assert handler.handle_batch([event, event]) == []
    assert handler.handle_batch([event]) == []
    assert [b["type"] for b in bodies(store)] == ["case.updated"]
    assert bodies(store)[0]["sequence"] == 1
    assert APPLICANT["nik"] not in json.dumps(bodies(store))
    assert handler.count_cases() == 1


def test_out_of_order_is_reordered(handler: TrackingHandler, store: FakeStore) -> None:
    handler.handle_batch([ev("case.completed", "BDG-0002", sequence=4),
                          ev("case.stage_started", "BDG-0002", sequence=3,
                             stage="konsultasi-teknis"),
                          ev("case.submitted", "BDG-0002", sequence=1)])
    case = store.get_case("BDG-0002")
    assert case is not None and case.revision == 1 and len(store.state.pending) == 2
    handler.handle_batch([ev("case.stage_started", "BDG-0002", sequence=2,
                             stage="verifikasi-berkas")])
    case = store.get_case("BDG-0002")
    assert case is not None and case.status.value == "selesai" and case.revision == 4
    assert [b["sequence"] for b in bodies(store)] == [1, 2, 3, 4]
    assert not store.state.pending


def test_refused_event_advances_sequence_and_reports(handler: TrackingHandler,
                                                     store: FakeStore) -> None:
    handler.handle_batch([ev("case.submitted", "BDG-0003", sequence=1),
                          ev("case.resumed", "BDG-0003", sequence=2),  # not paused: refused
                          ev("case.returned", "BDG-0003", sequence=3)])
    case = store.get_case("BDG-0003")
    assert case is not None and case.paused and case.last_sequence == 3
    rejected = [b for b in bodies(store) if b["type"] == "event.rejected"]
    assert rejected[0]["data"]["reason"] == "not-paused"
    assert rejected[0]["source"] == "/kota-bandung/tracking"


def test_poison_is_isolated(handler: TrackingHandler, store: FakeStore) -> None:
    broken = ReceivedEvent(event_id="x", source="/kota-bandung/dpmptsp", type="case.completed",
                           time=T0, jurisdiction="kota-bandung", department="dpmptsp", payload=None,
                           received=T0)
    failures = handler.handle_batch([ev("case.submitted", "BDG-0004"), broken])
    assert [f.index for f in failures] == [1]
    assert store.get_case("BDG-0004") is not None


def test_all_failing_reraises(handler: TrackingHandler) -> None:
    broken = ReceivedEvent(event_id="x", source="/kota-bandung/dpmptsp", type="case.completed",
                           time=T0, jurisdiction="kota-bandung", department="dpmptsp", payload=None,
                           received=T0)
    with pytest.raises(AttributeError):
        handler.handle_batch([broken])


def test_overdue_and_queries(handler: TrackingHandler, store: FakeStore) -> None:
    handler.handle_batch([ev("case.submitted", "BDG-0005", service_code="izin-praktik")])
    assert isinstance(handler.clock, FakeClock)
    handler.clock.current = T0 + timedelta(days=20)
    assert handler.check_overdue() == 1
    assert handler.check_overdue() == 0
    assert [b["type"] for b in bodies(store)][-2:] == ["case.updated", "case.overdue"]
    answer = handler.get_case("BDG-0005")
    assert answer is not None and answer["sla"]["overdue"] is True
    assert answer["status"] == {"pantau": "diterima", "open311": "open",
                                "blds": "Application Accepted"}
    assert handler.get_case("NOPE-0000") is None
    assert [c["receipt_number"] for c in handler.list_public_cases(None, 10)] == ["BDG-0005"]
    assert handler.list_public_cases("BDG-0005", 10) == []


def test_outgoing_events_pass_the_contract(handler: TrackingHandler, store: FakeStore) -> None:
    handler.handle_batch([ev("case.submitted", "BDG-0006", applicant=APPLICANT,
                             note="Pemohon Siti Nurhaliza, NIK 3273012345678901"),
                          ev("case.stage_started", "BDG-0006", stage="nope")])
    assert isinstance(handler.clock, FakeClock)
    handler.clock.current = T0 + timedelta(days=60)
    handler.check_overdue()
    outgoing = frozenset({"case.updated", "case.overdue", "event.rejected"})
    types = []
    for message in store.state.outbox:
        event = validate_event(message.body, allowed_types=outgoing)
        types.append(event.type)
        assert event.jurisdiction == "kota-bandung" and event.department == "tracking"
        assert APPLICANT["nik"] not in message.body.decode()
        assert "Nurhaliza" not in message.body.decode()
    assert sorted(types) == ["case.overdue", "case.updated", "case.updated", "event.rejected"]
    updated = validate_event(store.state.outbox[0].body, allowed_types=outgoing)
    assert updated.version == 2
    assert json.loads(updated.raw)["dataschema"] == dataschema_for("case.updated", 2)
    assert isinstance(updated.payload, CaseUpdatedV2)
    assert updated.payload.case.timeline[0].received_at == T0


def test_catalogue_changes_never_rewrite_open_cases(store: FakeStore) -> None:
    first = TrackingHandler(store, CATALOGUE, FakeClock(T0))
    first.handle_batch([ev("case.submitted", "BDG-0007")])
    changed = CATALOGUE.model_copy(deep=True)
    bandung = changed.jurisdictions["kota-bandung"]
    pbg = bandung.departments["dpmptsp"].services["pbg"]
    bandung.departments["dpmptsp"].services["pbg"] = pbg.model_copy(
        update={"max_working_days": 60, "stages": pbg.stages[:1]})
    changed.jurisdictions["kota-bandung"] = bandung.model_copy(update={"version": "2027.1"})
    second = TrackingHandler(store, changed, FakeClock(T0))
    second.handle_batch([ev("case.submitted", "BDG-0008"),
                         ev("case.stage_started", "BDG-0007", stage="penerbitan")])
    old, new = second.get_case("BDG-0007"), second.get_case("BDG-0008")
    assert old is not None and new is not None
    assert old["public"]["catalogue_version"] == "kota-bandung@2026.2"
    assert old["public"]["max_working_days"] == 28 and old["public"]["stage_code"] == "penerbitan"
    assert new["public"]["catalogue_version"] == "kota-bandung@2027.1"
    assert new["public"]["max_working_days"] == 60


def test_duplicate_receipt_with_sequence_is_refused_not_dropped(handler: TrackingHandler,
                                                               store: FakeStore) -> None:
    handler.handle_batch([ev("case.submitted", "BDG-0009", sequence=5)])
    handler.handle_batch([ev("case.submitted", "BDG-0009", sequence=1),
                          ev("case.submitted", "BDG-0009", sequence=1,
                             department="disdukcapil", service_code="ktp-el"),
                          ev("case.completed", "BDG-0009", sequence=1, department="dinkes")])
    reasons = [b["data"]["reason"] for b in bodies(store) if b["type"] == "event.rejected"]
    assert reasons == ["duplicate-receipt", "duplicate-receipt", "wrong-department"]
    case = store.get_case("BDG-0009")
    assert case is not None and case.last_sequence == 5 and case.revision == 1


def test_case_due_today_is_not_loaded_until_it_can_be_overdue(handler: TrackingHandler,
                                                               store: FakeStore) -> None:
    """The overdue scan selects by WIT's date (UTC+9, the furthest-ahead zone): a case due on D
    is not even loaded while it is still D (or earlier) everywhere in Indonesia; from WIT
    midnight it is loaded, and it is marked once ITS zone (WIB here) has passed D."""
    handler.handle_batch([ev("case.submitted", "BDG-0009", service_code="izin-praktik")])
    case = store.get_case("BDG-0009")
    assert case is not None and case.timezone == "Asia/Jakarta"
    due = case_sla(case, T0).due_date
    midnight_utc = datetime.combine(due, time(), tzinfo=UTC)
    assert isinstance(handler.clock, FakeClock)
    store.loads.clear()
    # The whole due day (in WIB and WIT) and the day before: never loaded.
    for now in (midnight_utc - timedelta(hours=9), midnight_utc,
                midnight_utc + timedelta(hours=14, minutes=59, seconds=59)):
        handler.clock.current = now
        assert handler.check_overdue() == 0
    assert store.loads == []
    # 15:00 UTC = 00:00 WIT on D+1: overdue somewhere, so loaded; still D in WIB, so not marked.
    handler.clock.current = midnight_utc + timedelta(hours=15)
    assert handler.check_overdue() == 0
    assert store.loads == ["BDG-0009"]
    # 17:00 UTC = 00:00 WIB on D+1: overdue in Bandung.
    handler.clock.current = midnight_utc + timedelta(hours=17)
    assert handler.check_overdue() == 1
    assert bodies(store)[-1]["type"] == "case.overdue"


def test_latest_local_date_is_wit() -> None:
    assert latest_local_date(datetime(2026, 3, 2, 14, 59, tzinfo=UTC)) == date(2026, 3, 2)
    assert latest_local_date(datetime(2026, 3, 2, 15, 0, tzinfo=UTC)) == date(2026, 3, 3)
    wib = ZoneInfo("Asia/Jakarta")  # the same instant in another zone: same answer
    assert latest_local_date(datetime(2026, 3, 2, 22, 0, tzinfo=wib)) == date(2026, 3, 3)


def test_received_time_comes_from_intake_or_the_fallback() -> None:
    received = T0 + timedelta(days=9)
    stamped = ev("case.submitted", "BDG-0010", received=received)
    assert stamped.received == received and stamped.time == T0
    assert ev("case.submitted", "BDG-0010").received == T0  # unstamped: the fallback
    body = event_to_json(make_event(type="case.submitted", source="/kota-bandung/dpmptsp",
                                    id="x", data={"receipt_number": "BDG-0010",
                                                  "service_code": "pbg"}, time=T0))
    assert as_event(validate_event(body), received).received == received


def test_late_report_is_published_with_both_clocks(handler: TrackingHandler,
                                                   store: FakeStore) -> None:
    assert isinstance(handler.clock, FakeClock)
    received = T0 + timedelta(days=9)  # Wednesday of the next week: 7 working days later
    handler.clock.current = received
    handler.handle_batch([ev("case.submitted", "BDG-0011", received=received)])
    answer = handler.get_case("BDG-0011")
    assert answer is not None
    (step,) = answer["history"]
    assert step["at"] == T0.isoformat() and step["received_at"] == received.isoformat()
    assert step["late_reported"] is True and step["reporting_delay_days"] == 7
    assert step["counted_at"] == (received - timedelta(days=1)).isoformat()
    assert answer["public"]["late_reported"] is True
    assert answer["public"]["reporting_tolerance_days"] == 1
    assert bodies(store)[0]["data"]["case"]["timeline"][0]["late_reported"] is True


def test_buffered_event_keeps_its_intake_time(handler: TrackingHandler,
                                              store: FakeStore) -> None:
    """An out-of-order event waits in the buffer; applied later, it still counts from when
    intake received it, not from when the gap filled."""
    assert isinstance(handler.clock, FakeClock)
    early = T0 + timedelta(hours=3)
    handler.handle_batch([ev("case.submitted", "BDG-0012", sequence=1, received=early),
                          ev("case.stage_started", "BDG-0012", sequence=3, received=early,
                             stage="konsultasi-teknis")])
    handler.clock.current = T0 + timedelta(days=3)
    handler.handle_batch([ev("case.stage_started", "BDG-0012", sequence=2,
                             received=T0 + timedelta(days=3), stage="verifikasi-berkas")])
    case = store.get_case("BDG-0012")
    assert case is not None and [h.seq for h in case.history] == [1, 2, 3]
    assert case.history[2].received_at == early and not case.history[2].late_reported
    assert case.history[1].late_reported  # sequence 2 itself was reported 3 working days late


class FlakyStore(FakeStore):
    """Transaction number ``n`` (1-based) in ``fail`` raises ``fail[n]`` when it begins."""

    def __init__(self, fail: dict[int, Exception]) -> None:
        super().__init__()
        self.fail = fail
        self.transactions = 0

    @contextmanager
    def unit_of_work(self) -> Iterator[FakeUnitOfWork]:
        self.transactions += 1
        if self.transactions in self.fail:
            raise self.fail[self.transactions]
        with super().unit_of_work() as uow:
            yield uow


def test_database_away_for_the_batch_is_never_poison() -> None:
    store = FlakyStore({1: DatabaseAway("connection refused")})
    handler = TrackingHandler(store, CATALOGUE, FakeClock(T0))
    with pytest.raises(StoreUnavailable) as caught:
        handler.handle_batch([ev("case.submitted", "BDG-0101"), ev("case.submitted", "BDG-0102")])
    assert caught.value.dependency == "database"
    assert "connection refused" in caught.value.detail
    assert isinstance(caught.value.__cause__, DatabaseAway)
    assert store.transactions == 1  # no one-by-one retries against a database that is away
    assert store.state.cases == {}


def test_database_going_away_during_the_one_by_one_retry_is_never_poison() -> None:
    broken = ReceivedEvent(event_id="x", source="/kota-bandung/dpmptsp", type="case.completed",
                           time=T0, jurisdiction="kota-bandung", department="dpmptsp", payload=None,
                           received=T0)
    # 1: the batch (fails on the broken event); 2: the first event alone (commits);
    # 3: the broken event alone — the database is gone by then
    store = FlakyStore({3: DatabaseAway("server closed the connection unexpectedly")})
    handler = TrackingHandler(store, CATALOGUE, FakeClock(T0))
    events = [ev("case.submitted", "BDG-0103"), broken, ev("case.submitted", "BDG-0104")]
    with pytest.raises(StoreUnavailable):
        handler.handle_batch(events)
    assert store.get_case("BDG-0103") is not None  # committed alone; a retry skips it
    store.fail = {}
    assert [f.index for f in handler.handle_batch(events)] == [1]  # the database is back
    assert store.get_case("BDG-0104") is not None
    assert [b["type"] for b in bodies(store)] == ["case.updated", "case.updated"]  # no repeats


def test_a_poison_event_is_still_isolated_when_the_database_is_fine() -> None:
    store = FlakyStore({})
    handler = TrackingHandler(store, CATALOGUE, FakeClock(T0))
    broken = ReceivedEvent(event_id="y", source="/kota-bandung/dpmptsp", type="case.completed",
                           time=T0, jurisdiction="kota-bandung", department="dpmptsp", payload=None,
                           received=T0)
    failures = handler.handle_batch([broken, ev("case.submitted", "BDG-0105")])
    assert [f.index for f in failures] == [0] and "AttributeError" in failures[0].error


def test_a_page_of_public_cases_stays_under_the_reply_budget(
        handler: TrackingHandler, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply larger than the broker's max_message_size is refused and killed tracking: the page
    is cut short (never empty), and the pager carries on after a short page."""
    import pantau_tracking.service.handler as module

    handler.handle_batch([ev("case.submitted", f"BDG-000{i}", service_code="izin-praktik")
                          for i in range(1, 6)])
    one = len(json.dumps(handler.list_public_cases(None, 1)[0]).encode())
    monkeypatch.setattr(module, "REPLY_BUDGET_BYTES", int(one * 2.5))
    first = handler.list_public_cases(None, 10)
    assert [c["receipt_number"] for c in first] == ["BDG-0001", "BDG-0002"]
    monkeypatch.setattr(module, "REPLY_BUDGET_BYTES", 1)
    assert len(handler.list_public_cases(None, 10)) == 1  # never empty while cases remain
    monkeypatch.setattr(module, "REPLY_BUDGET_BYTES", int(one * 2.5))
    listed = [c["receipt_number"] for c in
              pages(lambda after, size: handler.list_public_cases(after, size), 10)]
    assert listed == [f"BDG-000{i}" for i in range(1, 6)]


def test_a_key_conflict_with_another_instance_retries_the_batch_not_poison() -> None:
    """Another tracking committed the same event (or opened the same case) while this batch
    ran: the batch is retried in a new transaction, which sees that commit — no one-by-one
    retry, no poison, no traceback."""
    store = FlakyStore({1: KeyConflict("duplicate key value violates processed_events_pkey")})
    handler = TrackingHandler(store, CATALOGUE, FakeClock(T0))
    assert handler.handle_batch([ev("case.submitted", "BDG-0106"),
                                 ev("case.submitted", "BDG-0107")]) == []
    assert store.transactions == 2
    assert store.get_case("BDG-0106") is not None and store.get_case("BDG-0107") is not None
    assert [b["type"] for b in bodies(store)] == ["case.updated", "case.updated"]


def test_a_conflict_that_never_clears_ends_like_any_other_error() -> None:
    """Bounded: a key conflict on every try is the event's own error after the retries."""
    store = FlakyStore({n: KeyConflict("duplicate key") for n in range(1, 20)})
    handler = TrackingHandler(store, CATALOGUE, FakeClock(T0))
    with pytest.raises(KeyConflict):
        handler.handle_batch([ev("case.submitted", "BDG-0108")])
    assert store.transactions == 2 * (CONFLICT_RETRIES + 1)  # the batch, then the event alone
