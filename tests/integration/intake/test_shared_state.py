"""The SQL replay check and accepted-events memory on SQLite and PostgreSQL (``store_url``).

Two adapters on two engines stand for two intake replicas sharing one database. The engines are
``ledger_engine_for`` ones, as in production (autocommit; relaxed commit on PostgreSQL).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from pantau_intake.adapters.accepted_events import SqlAcceptedEvents, accepted_events_table
from pantau_intake.adapters.seen_signatures import SqlSeenSignatures, seen_signatures_table
from pantau_intake.adapters.sql import engine_for, ledger_engine_for
from pantau_intake.domain.idempotency import AcceptedRecord
from pantau_intake.domain.store import StoreUnavailable
from tests.conftest import wait_for

pytestmark = pytest.mark.integration
WINDOW = 300.0
NOW = 1_780_000_000.0


def count(url: str, table: sa.Table) -> int:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_a_signature_is_accepted_once_across_replicas(store_url: str) -> None:
    a, b = ledger_engine_for(store_url), ledger_engine_for(store_url)
    try:
        first, second = SqlSeenSignatures(a, WINDOW), SqlSeenSignatures(b, WINDOW)
        sig = uuid.uuid4().hex
        assert first.remember("key-1", sig, NOW) is True
        assert second.remember("key-1", sig, NOW + 1) is False  # the replay, other replica
        assert first.remember("key-1", sig, NOW + 2) is False
        assert second.remember("key-2", sig, NOW) is True  # another key: another pair
        # after 2 × window the row is dead; a (theoretical) reuse counts as first use again
        assert second.remember("key-1", sig, NOW + 2 * WINDOW + 1) is True
        assert first.remember("key-1", sig, NOW + 2 * WINDOW + 2) is False
    finally:
        a.dispose()
        b.dispose()


def test_racing_replicas_let_exactly_one_use_win(store_url: str) -> None:
    engines = [ledger_engine_for(store_url) for _ in range(2)]
    ledgers = [SqlSeenSignatures(e, WINDOW) for e in engines]
    signatures = [uuid.uuid4().hex for _ in range(25)]
    wins: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def replica(index: int) -> None:
        barrier.wait()
        for sig in signatures:
            won = ledgers[index % 2].remember("key-race", sig, time.time())
            with lock:
                wins.append(won)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert len(wins) == 4 * len(signatures)
    assert wins.count(True) == len(signatures)  # each signature exactly once


class HoldFirst:
    """A cursor listener that holds the first statement matching ``prefix`` until ``release``,
    so that concurrent callers queue behind it and form one group (``GroupCommit``)."""

    def __init__(self, engine: sa.Engine, prefix: str) -> None:
        self.prefix, self.statements = prefix.upper(), 0
        self.entered, self.release = threading.Event(), threading.Event()
        sa.event.listen(engine, "before_cursor_execute", self)

    def __call__(self, conn: object, cursor: object, statement: str, parameters: object,
                 context: object, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(self.prefix):
            self.statements += 1
            if not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(10)


def in_threads(calls: list[Callable[[], object]]
               ) -> tuple[list[threading.Thread], list[object]]:
    """Start one thread per call; their answers fill the list in call order as they end."""
    answers: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    return threads, answers


def test_concurrent_checks_share_one_statement_and_a_repeat_is_still_a_replay(
        store_url: str) -> None:
    engine = ledger_engine_for(store_url)
    hold = HoldFirst(engine, "INSERT INTO intake_seen_signatures")
    try:
        ledger = SqlSeenSignatures(engine, WINDOW, purge_interval=3600)
        first_sig, sigs = uuid.uuid4().hex, [uuid.uuid4().hex for _ in range(3)]
        # the first call runs alone and is held; six arrive meanwhile, one signature three times
        threads, answers = in_threads([lambda: ledger.remember("k", first_sig, NOW)])
        assert hold.entered.wait(10)
        more, late = in_threads([lambda s=s: ledger.remember("k", s, NOW)
                                 for s in [sigs[0], sigs[1], sigs[0], sigs[2], sigs[0]]])
        wait_for(lambda: ledger._group.queued == 5, message="five checks queued")
        hold.release.set()
        for t in [*threads, *more]:
            t.join(10)
        assert answers == [True]
        assert late == [True, True, False, True, False]  # the repeats of sigs[0]: replays
        assert hold.statements == 2  # the held one, then one for the five
        assert ledger.remember("k", sigs[1], NOW + 1) is False
    finally:
        engine.dispose()


def test_concurrent_lookups_and_records_each_get_their_own_answer(store_url: str) -> None:
    engine = ledger_engine_for(store_url)
    hold = HoldFirst(engine, "SELECT intake_accepted_events.event_key")
    try:
        memory = SqlAcceptedEvents(engine, purge_interval=3600)
        tag = uuid.uuid4().hex
        keys = [("/kota-bandung/dpmptsp", f"{tag}-{n}") for n in range(6)]
        memory.record({key: AcceptedRecord(f"digest-{n}") for n, key in enumerate(keys[:3])})
        threads, first = in_threads([lambda: memory.find([keys[0]])])
        assert hold.entered.wait(10)
        wanted = [[keys[1], keys[4]], [keys[2]], [keys[3], keys[5]], [keys[0], keys[1]]]
        more, found = in_threads([lambda w=w: memory.find(w) for w in wanted])
        wait_for(lambda: memory._finds.queued == 4, message="four lookups queued")
        hold.release.set()
        for t in [*threads, *more]:
            t.join(10)
        assert first == [{keys[0]: AcceptedRecord("digest-0")}]
        assert found == [{keys[1]: AcceptedRecord("digest-1")},
                         {keys[2]: AcceptedRecord("digest-2")}, {},
                         {keys[0]: AcceptedRecord("digest-0"), keys[1]: AcceptedRecord("digest-1")}]
        assert hold.statements == 2  # the held lookup, then one for the four
        # records from concurrent callers, one key in two of them: the first content wins
        recorders, _ = in_threads([lambda: memory.record({keys[3]: AcceptedRecord("a")}),
                                   lambda: memory.record({keys[4]: AcceptedRecord("b"),
                                                          keys[3]: AcceptedRecord("c")})])
        for t in recorders:
            t.join(10)
        assert memory.find([keys[4]]) == {keys[4]: AcceptedRecord("b")}
        assert memory.find([keys[3]])[keys[3]].digest in {"a", "c"}
    finally:
        engine.dispose()


def test_expired_signatures_are_purged_cheaply(store_url: str) -> None:
    engine = ledger_engine_for(store_url)
    try:
        ledger = SqlSeenSignatures(engine, WINDOW, purge_interval=0)
        for _ in range(3):
            ledger.remember("key-old", uuid.uuid4().hex, NOW)
        assert count(store_url, seen_signatures_table) == 3
        ledger.remember("key-new", uuid.uuid4().hex, NOW + 2 * WINDOW + 1)
        assert count(store_url, seen_signatures_table) == 1  # only the live one is left
    finally:
        engine.dispose()


def clock_at(start: float) -> tuple[Callable[[], float], list[float]]:
    now = [start]
    return (lambda: now[0]), now


def test_accepted_events_are_shared_and_first_content_wins(store_url: str) -> None:
    a, b = ledger_engine_for(store_url), ledger_engine_for(store_url)
    clock, now = clock_at(NOW)
    try:
        first = SqlAcceptedEvents(a, keep=3600, clock=clock)
        second = SqlAcceptedEvents(b, keep=3600, clock=clock)
        key = ("/kota-bandung/dpmptsp", str(uuid.uuid4()))
        other = ("/kota-bandung/dinkes", key[1])  # same id, other source: another event
        assert second.find({key, other}) == {}
        first.record({key: AcceptedRecord("d1")})
        assert second.find({key, other}) == {key: AcceptedRecord("d1", "accepted")}
        second.record({key: AcceptedRecord("d2")})  # a live entry is never overwritten
        assert first.find([key]) == {key: AcceptedRecord("d1")}
        now[0] = NOW + 3601  # expired: invisible, and replaced by the next record
        assert first.find([key]) == {}
        second.record({key: AcceptedRecord("d3")})
        assert first.find([key]) == {key: AcceptedRecord("d3")}
    finally:
        a.dispose()
        b.dispose()


def test_many_keys_at_once_and_expired_rows_purged(store_url: str) -> None:
    engine = ledger_engine_for(store_url)
    clock, now = clock_at(NOW)
    try:
        memory = SqlAcceptedEvents(engine, keep=60, clock=clock, purge_interval=0)
        keys = [("/kota-bandung/dpmptsp", f"id-{n}") for n in range(1_100)]
        memory.record({k: AcceptedRecord(f"digest-{k[1]}") for k in keys[:700]})
        found = memory.find(keys)
        assert set(found) == set(keys[:700])
        assert found[keys[5]].digest == "digest-id-5"
        now[0] = NOW + 61
        memory.record({("/kota-bandung/dpmptsp", "fresh"): AcceptedRecord("x")})
        assert count(store_url, accepted_events_table) == 1
    finally:
        engine.dispose()


def test_a_batch_is_written_in_one_statement_per_chunk(store_url: str) -> None:
    """An ON CONFLICT executemany is one round trip per row on psycopg2 unless it qualifies for
    "insertmanyvalues" (it does with RETURNING): 400 keys must be one INSERT, not 400."""
    engine = ledger_engine_for(store_url)
    inserts: list[int] = []

    def seen(conn: object, cursor: object, statement: str, parameters: object, context: object,
             executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INTAKE_ACCEPTED_EVENTS"):
            # row by row: a sequence of parameter sets; a multi-row VALUES: one set of scalars
            sets = parameters if isinstance(parameters, list | tuple) else [parameters]
            row_by_row = bool(sets) and isinstance(sets[0], dict | list | tuple)
            inserts.append(len(sets) if row_by_row else 1)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        memory = SqlAcceptedEvents(engine, purge_interval=3600)
        tag = uuid.uuid4().hex
        memory.record({("/kota-bandung/dpmptsp", f"{tag}-{n}"): AcceptedRecord("d")
                       for n in range(400)})
        assert inserts == [1]  # one statement, one parameter set: a multi-row VALUES
    finally:
        engine.dispose()


def test_an_unreachable_database_is_store_unavailable() -> None:
    engine = ledger_engine_for("postgresql://pantau:pantau@127.0.0.1:1/pantau?connect_timeout=2")
    with pytest.raises(StoreUnavailable):
        SqlSeenSignatures(engine, WINDOW)
    with pytest.raises(StoreUnavailable):
        SqlAcceptedEvents(engine)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_relaxed_commit_stays_on_the_ledger_engine(store_url: str) -> None:
    ledgers, plain = ledger_engine_for(store_url), engine_for(store_url)
    try:
        with ledgers.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        with plain.connect() as conn:  # the key store keeps full durability
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        ledgers.dispose()
        plain.dispose()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_dead_pooled_connection_is_replaced_without_an_error(store_url: str) -> None:
    # What a PostgreSQL restart does to idle pooled connections; the ledger engine has no
    # pre-ping, so ``transact`` must retry on a fresh connection.
    ledgers, admin = ledger_engine_for(store_url), engine_for(store_url)
    try:
        seen = SqlSeenSignatures(ledgers, WINDOW)
        assert seen.remember("key-restart", uuid.uuid4().hex, time.time())
        with ledgers.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.begin() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert seen.remember("key-restart", uuid.uuid4().hex, time.time()) is True
        assert SqlAcceptedEvents(ledgers).find([("/kota-bandung/dpmptsp", "x")]) == {}
    finally:
        ledgers.dispose()
        admin.dispose()


def test_replicas_starting_at_once_on_a_fresh_database_all_come_up(
        postgres_url: str) -> None:
    """Four replicas' stores created at once on an empty schema: no replica dies of a
    CREATE TABLE race (two replicas of a fresh compose deployment did)."""
    import threading

    from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
    from pantau_intake.adapters.seen_signatures import SqlSeenSignatures
    from pantau_intake.adapters.sql import ledger_engine_for
    from tests.conftest import fresh_schema

    with fresh_schema(postgres_url, "race") as url:
        errors: list[BaseException] = []
        barrier = threading.Barrier(4)

        def start() -> None:
            try:
                engine = ledger_engine_for(url)  # one engine per replica, as in production
                barrier.wait()
                SqlAcceptedEvents(engine)
                SqlSeenSignatures(engine, 300)
                engine.dispose()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
