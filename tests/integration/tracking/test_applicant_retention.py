"""Private applicant data is deleted a configurable time after its case closed (UU PDP 27/2022),
in bounded batches, by the service's purge and by the operators' CLI — on SQLite and PostgreSQL
(``database_url``), with a fixed clock. Open cases keep their applicant however old; the case,
its history and the public record stay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pantau_contracts.catalogue import load_catalogue
from pantau_contracts.registry import validate_event
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.retention import RetentionPurger
from pantau_tracking.adapters.schema import applicants, cases
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.cli import purge
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.service.handler import TrackingHandler, as_event
from pantau_tracking.settings import TrackingSettings

from .helpers import T0, FixedClock, department_event

pytestmark = pytest.mark.integration
NOW = T0 + timedelta(days=800)
YEAR = timedelta(days=365)
APPLICANT = {"name": "Siti Rahayu", "nik": "3273010101900001", "phone": "+62811111111",
             "email": "siti@example.org", "address": "Jl. Dago 1, Bandung"}


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = create_engine(database_url)
    migrate(engine)
    yield SqlStore(engine)
    engine.dispose()


@pytest.fixture
def handler(store: SqlStore) -> TrackingHandler:
    return TrackingHandler(store, load_catalogue(), FixedClock(T0 + timedelta(days=1)))


def ev(*args: object, **kwargs: object) -> ReceivedEvent:
    event = validate_event(department_event(*args, **kwargs))  # type: ignore[arg-type]
    return as_event(event, event.time)


def submit(handler: TrackingHandler, receipt: str, closed_ago: timedelta | None,
           store: SqlStore) -> None:
    """A case with an applicant; closed (withdrawn) ``closed_ago`` before NOW, or left open."""
    handler.handle_batch([ev("case.submitted", receipt, sequence=1, applicant=APPLICANT)])
    if closed_ago is None:
        return
    handler.handle_batch([ev("case.withdrawn", receipt, sequence=2)])
    with store.engine.begin() as conn:
        conn.execute(cases.update().where(cases.c.receipt_number == receipt)
                     .values(closed_at=NOW - closed_ago))


def kept(store: SqlStore) -> set[str]:
    with store.engine.connect() as conn:
        return {r[0] for r in conn.execute(sa.select(applicants.c.receipt_number))}


@pytest.fixture
def population(handler: TrackingHandler, store: SqlStore,
               unique: Callable[[str], str]) -> dict[str, str]:
    ages = {"old1": YEAR + timedelta(days=1), "old2": YEAR * 2, "old3": YEAR + timedelta(hours=1),
            "recent": YEAR - timedelta(hours=1), "open": None}
    receipts = {name: unique("BDG") for name in ages}
    for name, age in ages.items():
        submit(handler, receipts[name], age, store)
    with store.engine.begin() as conn:  # an open case submitted long ago keeps its applicant
        conn.execute(cases.update().where(cases.c.receipt_number == receipts["open"])
                     .values(submitted_at=NOW - YEAR * 3))
    assert kept(store) == set(receipts.values())
    return receipts


def test_applicants_are_deleted_a_year_after_their_case_closed_in_bounded_batches(
        store: SqlStore, population: dict[str, str]) -> None:
    purger = RetentionPurger(store, FixedClock(NOW), applicant_retention=YEAR,
                             batch_size=2, max_batches=1)
    assert purger.count_applicants_due() == 3
    assert purger.purge().applicants == 2  # one batch of two per run: bounded
    assert purger.purge().applicants == 1
    assert purger.purge().applicants == 0
    assert kept(store) == {population["recent"], population["open"]}
    purger.clock = FixedClock(NOW + timedelta(hours=2))  # time passes: "recent" is due
    assert purger.purge().applicants == 1
    assert kept(store) == {population["open"]}


def test_the_case_and_its_public_record_outlive_the_applicant(
        handler: TrackingHandler, store: SqlStore, population: dict[str, str]) -> None:
    receipt = population["old1"]
    before = store.get_case(receipt)
    assert before is not None and before.applicant is not None
    RetentionPurger(store, FixedClock(NOW), applicant_retention=YEAR).purge()
    after = store.get_case(receipt)
    assert after is not None and after.applicant is None
    assert after.revision == before.revision and len(after.history) == len(before.history)
    # A closed case accepts nothing, with or without its applicant.
    late = ev("case.stage_started", receipt, sequence=3, stage="verifikasi-berkas")
    handler.handle_batch([late])
    record = store.processed(late.source, late.event_id)
    assert record is not None and (record["outcome"], record["reason"]) == ("refused",
                                                                           "case-closed")
    again = store.get_case(receipt)
    assert again is not None and (again.revision, again.history) == (after.revision,
                                                                      after.history)


def test_the_retention_is_a_setting_and_the_cli_purges_until_done(
        store: SqlStore, database_url: str, population: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    settings = TrackingSettings(database_url=database_url, tracking_purge_batch_size=1,
                                tracking_purge_max_batches=1,
                                tracking_applicant_retention_days=365 * 2 - 1)
    assert purge.main(["--dry-run"], settings=settings, clock=FixedClock(NOW)) == 0
    assert "applicants past retention (729 days after closing): 1" in capsys.readouterr().out
    assert kept(store) == set(population.values())  # a dry run deletes nothing
    assert purge.main(["--once"], settings=settings, clock=FixedClock(NOW)) == 0
    assert "purged: 1 applicant(s)" in capsys.readouterr().out
    shorter = settings.model_copy(update={"tracking_applicant_retention_days": 365})
    assert purge.main([], settings=shorter, clock=FixedClock(NOW)) == 0
    assert "purged: 2 applicant(s)" in capsys.readouterr().out  # one per batch, until done
    assert kept(store) == {population["recent"], population["open"]}


def test_the_service_builds_its_purger_from_the_settings(store: SqlStore) -> None:
    settings = TrackingSettings(tracking_applicant_retention_days=30,
                                tracking_purge_batch_size=7, tracking_purge_max_batches=3)
    purger = RetentionPurger.from_settings(store, FixedClock(NOW), settings)
    assert purger.applicant_retention == timedelta(days=30)
    assert (purger.batch_size, purger.max_batches) == (7, 3)
    assert TrackingSettings().tracking_applicant_retention_days == 365
