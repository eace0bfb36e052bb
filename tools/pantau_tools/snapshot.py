"""Tracking's public records read from its database and planned for the indices, in parallel
worker processes that all read ONE snapshot — the rebuild's fast source.

``planned(url, targets, workers=N, page_size=P)`` returns ``(total, iterator of Planned)``:

* PostgreSQL and ``workers > 1``: this process opens a read-only ``REPEATABLE READ`` transaction
  and exports its snapshot (``pantau_tracking.adapters.export.exported_snapshot``), reads every
  receipt number in it (keyset over the primary key) and cuts them into pages of ``page_size``.
  Each worker process imports the same snapshot for each page, builds the public records with
  tracking's code (``to_public``) and plans them with publishing's
  (``adapters.search.rebuild.plan``: ``clean_case`` then ``index_actions``) — the CPU-heavy part
  (redaction twice, validation twice), now spread over the cores. Pages come back in receipt
  order; the exporting transaction stays open until the last one is planned. Every case of the
  snapshot is planned exactly once, whatever tracking commits meanwhile.
* Otherwise (SQLite, ``workers <= 1``): one process, ``PublicExport.records`` (keyset pages).

Workers are started with ``spawn`` (never ``fork``: no inherited connections or locks) and
import no eventlet; the parent must not be eventlet-patched either (``pantau_tools.rebuild``
patches only for its RPC source).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import islice

import sqlalchemy as sa

from pantau_publishing.adapters.search.rebuild import Planned, Target, plan
from pantau_tracking.adapters.database import create_engine
from pantau_tracking.adapters.export import (
    PublicExport,
    all_receipts,
    exported_snapshot,
    imported_snapshot,
    public_records,
)

_ENGINE: sa.Engine | None = None  # one per worker process


def _plan_page(task: tuple[str, str, list[str], tuple[Target, ...], datetime]
               ) -> list[Planned]:
    """In a worker: the page's cases, as the snapshot has them, planned."""
    global _ENGINE  # noqa: PLW0603 - a worker process keeps its engine between pages
    url, snapshot, receipts, targets, now = task
    if _ENGINE is None:
        _ENGINE = create_engine(url)
    with imported_snapshot(_ENGINE, snapshot) as connection:
        records = public_records(connection, receipts, now)
    return [plan(record, targets) for record in records]


def planned(stack: ExitStack, url: str, targets: Sequence[Target], *, workers: int,
            page_size: int = 1000) -> tuple[int, Iterator[Planned]]:
    """``(cases in the snapshot, their plans)`` — see the module docstring. ``stack`` closes
    the snapshot, the pool and the engine."""
    engine = create_engine(url)
    stack.callback(engine.dispose)
    now = datetime.now(UTC)
    if engine.dialect.name != "postgresql" or workers <= 1:
        export = PublicExport(engine, now)
        return export.count(), (plan(r, targets) for r in export.records(page_size))
    connection, snapshot = stack.enter_context(exported_snapshot(engine))
    receipts = list(all_receipts(connection))
    pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers))
    tasks = ((url, snapshot, page, tuple(targets), now) for page in _pages(receipts, page_size))
    pages = pool.imap(_plan_page, tasks)
    return len(receipts), (item for page in pages for item in page)


def _pages(items: list[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while page := list(islice(iterator, size)):
        yield page
