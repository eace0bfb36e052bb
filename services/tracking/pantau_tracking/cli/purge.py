"""``python -m pantau_tracking.cli.purge`` — run the retention purge now (operators).

    python -m pantau_tracking.cli.purge             purge until nothing is past retention
    python -m pantau_tracking.cli.purge --once      one bounded run (what the service's timer does)
    python -m pantau_tracking.cli.purge --dry-run   count the applicants past retention; delete none

The same ``RetentionPurger`` and settings as the tracking service's timer
(``PANTAU_TRACKING_APPLICANT_RETENTION_DAYS``, ``PANTAU_TRACKING_PURGE_BATCH_SIZE``, … ; see
``adapters/retention.py`` and docs/privacy.md). Safe while tracking runs: each batch is a short
transaction (SKIP LOCKED on PostgreSQL), and the schema is not migrated from here. Prints the
rows deleted per table; exit status 0.
"""

from __future__ import annotations

import argparse

from pantau_platform.production import enforce
from pantau_tracking.adapters.clock import SystemClock
from pantau_tracking.adapters.database import create_engine
from pantau_tracking.adapters.retention import Purged, RetentionPurger
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.ports import Clock
from pantau_tracking.settings import TrackingSettings


def _say(line: str) -> None:
    print(line)  # noqa: T201 - the CLI's output


def _until_done(purger: RetentionPurger) -> Purged:
    total = Purged(outbox=0, processed_events=0, applicants=0)
    while True:
        run = purger.purge()
        total = Purged(outbox=total.outbox + run.outbox,
                       processed_events=total.processed_events + run.processed_events,
                       applicants=total.applicants + run.applicants)
        if not (run.outbox or run.processed_events or run.applicants):
            return total


def main(argv: list[str] | None = None, settings: TrackingSettings | None = None,
         clock: Clock | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pantau_tracking.cli.purge",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one bounded run")
    mode.add_argument("--dry-run", action="store_true", help="count; delete nothing")
    args = parser.parse_args(argv)
    settings = settings or TrackingSettings()
    enforce(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        purger = RetentionPurger.from_settings(SqlStore(engine), clock or SystemClock(), settings)
        if args.dry_run:
            _say(f"applicants past retention ({settings.tracking_applicant_retention_days:g} "
                 f"days after closing): {purger.count_applicants_due()}")
            return 0
        purged = purger.purge() if args.once else _until_done(purger)
        _say(f"purged: {purged.applicants} applicant(s) of closed cases, {purged.outbox} sent "
             f"outbox row(s), {purged.processed_events} processed-event record(s)")
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
