"""Issue 14 item 9: whatever passes the contract can be stored — on PostgreSQL and on SQLite.

The largest values the contract allows (longest strings, in 4-byte UTF-8 characters where the
type lets free text in, the largest sequence number, the longest event id and source) are driven
through the real stores: tracking's ``SqlStore`` (through its handler, as the service does) and
intake's accepted-events memory. Then one past each limit must be refused by the contract, so
the database never sees it. Each value is read back unchanged.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pantau_contracts import ContractViolation, validate_event
from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.envelope import LATEST_TIME, MAX_IDENTITY_LENGTH, MAX_SEQUENCE
from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
from pantau_intake.adapters.sql import engine_for, ledger_engine_for
from pantau_intake.domain.idempotency import AcceptedRecord, content_digest
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.schema import applicants, case_history, processed_events
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler, as_event
from tests.integration.tracking.helpers import FixedClock

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
WIDE = "\U0001f600"  # 4 bytes in UTF-8: a limit in characters must not be one in bytes
RECEIPT = ("BDG-" + "PBG-" * 11)[:47] + "X"  # 48 characters, the longest receipt number
SOURCE_PREFIX = "/kota-bandung/dpmptsp/"
NOTE = ("Catatan " + WIDE * 500)[:500]
LONGEST = {
    "kecamatan": "Bojongloa " + "K" * 30,  # 40 characters
    "actor_role": "a" + "b" * 40,  # 41 characters
    "applicant": {
        "name": WIDE * 200,
        "nik": "3273010101010001",
        "phone": "+" + "1" * 19,  # 20 characters
        "email": "a" * 64 + "@" + ".".join(["b" * 63] * 2) + "." + "c" * 58 + ".id",  # 254
        "address": "Jl. " + WIDE * 496,
    },
}


def event(event_type: str, sequence: int, **data: Any) -> dict[str, Any]:
    """A structured CloudEvent with the longest id and source the contract allows."""
    tail = f"{sequence % 1000:03d}"
    return {
        "specversion": "1.0", "type": event_type, "time": (T0 + timedelta(hours=sequence % 100))
        .isoformat(), "id": (WIDE * MAX_IDENTITY_LENGTH)[:MAX_IDENTITY_LENGTH - 3] + tail,
        "source": SOURCE_PREFIX + WIDE * (MAX_IDENTITY_LENGTH - len(SOURCE_PREFIX)),
        "sequence": sequence, "subject": RECEIPT,
        "data": copy.deepcopy({"receipt_number": RECEIPT, "actor_role": LONGEST["actor_role"],
                               **data})}


def maximal_events() -> list[dict[str, Any]]:
    first = MAX_SEQUENCE - 4
    latest = (LATEST_TIME - timedelta(microseconds=1)).isoformat()
    return [
        event("case.submitted", first, service_code="pbg", kecamatan=LONGEST["kecamatan"],
              channel="online", note=NOTE, applicant=LONGEST["applicant"]),
        event("case.stage_started", first + 1, stage="verifikasi-berkas", note=NOTE),
        event("case.returned", first + 2, reason=NOTE),
        event("case.resumed", first + 3, note=NOTE),
        {**event("case.rejected", first + 4, reason=NOTE), "time": latest},
    ]


def test_the_maximal_events_pass_the_contract() -> None:
    for raw in maximal_events():
        validate_event(json.dumps(raw).encode())
    assert len(LONGEST["applicant"]["email"]) == 254 and len(NOTE) == 500  # type: ignore[index]


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = create_engine(database_url)
    migrate(engine)
    yield SqlStore(engine)
    engine.dispose()


def test_tracking_stores_the_largest_values(store: SqlStore) -> None:
    handler = TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(days=1)),
                              pending_timeout=timedelta(minutes=10))
    accepted = [validate_event(json.dumps(raw).encode()) for raw in maximal_events()]
    failures = handler.handle_batch([as_event(e, e.time) for e in accepted])
    assert failures == []
    case = store.get_case(RECEIPT)
    assert case is not None and case.last_sequence == MAX_SEQUENCE
    assert case.kecamatan == LONGEST["kecamatan"]
    with store.engine.connect() as conn:
        notes = conn.execute(sa.select(case_history.c.note, case_history.c.actor_role,
                                       case_history.c.event_id, case_history.c.event_source)
                             .order_by(case_history.c.seq)).all()
        applicant = conn.execute(sa.select(applicants)).one()
        processed = conn.execute(sa.select(processed_events.c.source,
                                           processed_events.c.event_id)).all()
    assert [row.note for row in notes] == [NOTE] * 5
    assert {row.actor_role for row in notes} == {LONGEST["actor_role"]}
    assert {row.event_source for row in notes} == {accepted[0].source}
    assert {row.event_id for row in notes} == {e.id for e in accepted}
    stored = {key: getattr(applicant, key) for key in LONGEST["applicant"]}  # type: ignore[attr-defined]
    assert stored == LONGEST["applicant"]
    assert {(row.source, row.event_id) for row in processed} == {e.dedup_key for e in accepted}


def test_tracking_buffers_an_event_with_the_largest_values(store: SqlStore) -> None:
    """An event waiting for its predecessor is stored whole (body, largest sequence)."""
    handler = TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(days=1)),
                              pending_timeout=timedelta(minutes=10))
    first, *_rest, last = maximal_events()
    accepted = [validate_event(json.dumps(raw).encode()) for raw in (first, last)]
    assert handler.handle_batch([as_event(e, e.time) for e in accepted]) == []
    case = store.get_case(RECEIPT)
    assert case is not None and case.revision == 1  # the last one waits for the gap


@pytest.fixture
def intake_engine(database_url: str) -> Iterator[sa.Engine]:
    engine = ledger_engine_for(database_url) if database_url.startswith("postgresql") \
        else engine_for(database_url)
    yield engine
    engine.dispose()


def test_intake_remembers_events_with_the_longest_identity(intake_engine: sa.Engine) -> None:
    memory = SqlAcceptedEvents(intake_engine)
    accepted = [validate_event(json.dumps(raw).encode()) for raw in maximal_events()]
    memory.record({e.dedup_key: AcceptedRecord(content_digest(e)) for e in accepted})
    found = memory.find([e.dedup_key for e in accepted])
    assert found == {e.dedup_key: AcceptedRecord(content_digest(e)) for e in accepted}


@pytest.mark.parametrize(("path", "value"), [
    ("id", "x" * (MAX_IDENTITY_LENGTH + 1)),
    ("source", SOURCE_PREFIX + "s" * (MAX_IDENTITY_LENGTH + 1 - len(SOURCE_PREFIX))),
    ("sequence", MAX_SEQUENCE + 1),
    ("time", "2200-01-01T00:00:00Z"),  # tracking could not compute a due date near 9999
    ("data.receipt_number", RECEIPT + "X"),
    ("data.note", NOTE + "x"),
    ("data.kecamatan", LONGEST["kecamatan"] + "x"),
    ("data.actor_role", LONGEST["actor_role"] + "b"),  # type: ignore[operator]
    ("data.applicant.name", WIDE * 201),
    ("data.applicant.name", "Budi\x00"),  # PostgreSQL cannot store NUL
    ("data.applicant.phone", "+" + "1" * 20),
    ("data.applicant.email", "a" + LONGEST["applicant"]["email"]),  # type: ignore[index]
    ("data.applicant.address", "Jl. " + WIDE * 497),
])
def test_one_past_each_limit_is_refused(path: str, value: Any) -> None:
    raw = maximal_events()[0]
    target = raw
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    target[last] = value
    with pytest.raises(ContractViolation) as info:
        validate_event(json.dumps(raw).encode())
    assert path in {p.field for p in info.value.problems}
