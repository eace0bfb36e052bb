"""Rebuild the public indices from tracking (the system of record), with no downtime.

    python -m pantau_tools.rebuild [--only cases|changes] [--source auto|database|rpc]
        [--database-url URL] [--workers N] [--page-size N] [--bulk-size N] [--concurrency N]

Fills a new cases index (``PANTAU_INDEX_ALIAS``) and a new changes index
(``PANTAU_CHANGES_ALIAS``, one document per public timeline entry — what the Atom/JSON feeds read)
in one pass, and swaps both aliases in one atomic call (see ``adapters.search.rebuild``: bulk
load with refresh and replicas off, then catch-up of what the indexer wrote meanwhile).
``--only`` rebuilds just one of them. Each record goes through publishing's allowlist builder
(``domain.record.clean_case``: validated and redacted again).

Where the records come from (``--source``; ``auto``: ``database`` when a tracking database URL
is given, else ``rpc``):

* ``database`` — tracking's database itself (``--database-url`` or
  ``PANTAU_TRACKING_DATABASE_URL``; a read-only role is enough), through tracking's own export
  (``pantau_tracking.adapters.export``): one consistent read-only snapshot, keyset pages, the
  public records built by tracking's code and planned by publishing's in ``--workers`` processes
  (default: one per CPU; ``pantau_tools.snapshot``). Tracking keeps consuming meanwhile
  and does none of the work, so a backlog cannot starve the rebuild (issue 13: through the RPC,
  a rebuild during a 2,000-case backlog crawled at 32 cases/s) nor the rebuild slow tracking
  beyond the database reads. The preferred source for a full rebuild.
* ``rpc`` — pages through tracking's RPC ``tracking.list_public_cases(after, limit)`` with a
  nameko ``ClusterRpcProxy``; needs no database access. Only this source patches eventlet (first
  thing after reading the arguments, before anything else is imported); the database source
  starts worker processes, which eventlet's patching would break. A page
  tracking does not answer (restarting, its database away) is asked for again
  (``pantau_tools.rpc``). Tracking answers ``PublicCaseV2`` dicts; a ``PublicCaseV1`` dict from
  a tracking not yet upgraded is accepted too and upgraded (``domain.record.clean_case``).

A bulk Elasticsearch cannot take is sent again (``adapters.search.rebuild.bulk_patiently``);
outages are waited out for up to ``--patience`` seconds (default 600) each. Progress: a bar with
rate and ETA on a terminal, a line every 10 s otherwise (``pantau_tools.progress``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pantau_publishing.adapters.search.rebuild import RebuildReport


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Rebuild Pantau's public indices (cases, changes) from tracking")
    parser.add_argument("--only", choices=("cases", "changes"),
                        help="rebuild just this index (default: both cases and changes)")
    parser.add_argument("--source", choices=("auto", "database", "rpc"), default="auto",
                        help="auto (default): database when a tracking database URL is given")
    parser.add_argument("--database-url",
                        default=os.environ.get("PANTAU_TRACKING_DATABASE_URL", ""),
                        help="tracking's database (default: $PANTAU_TRACKING_DATABASE_URL)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes building records from the database (default: CPUs)")
    parser.add_argument("--page-size", type=int, default=0,
                        help="records per page (default: 1000 from the database, 500 over RPC)")
    parser.add_argument("--bulk-size", type=int, default=2000,
                        help="index actions per bulk request (default 2000)")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="bulk requests in flight (default 2)")
    parser.add_argument("--rpc-timeout", type=float, default=60.0)
    parser.add_argument("--patience", type=float, default=600.0,
                        help="seconds to wait out a tracking or Elasticsearch outage (default 600)")
    parser.add_argument("--service", default="tracking",
                        help="nameko service offering list_public_cases (default: tracking)")
    args = parser.parse_args(argv)
    if args.source == "auto":
        args.source = "database" if args.database_url else "rpc"
    if args.source == "database" and not args.database_url:
        parser.error("--source database needs --database-url or PANTAU_TRACKING_DATABASE_URL")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.source == "rpc":  # a nameko client: eventlet first (see the module docstring)
        import eventlet

        eventlet.monkey_patch()
    return run(args)


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from pantau_platform.logging import configure
    from pantau_publishing.adapters.search.client import Aliases, make_client
    from pantau_publishing.adapters.search.rebuild import TARGETS, rebuild
    from pantau_publishing.settings import PublishingSettings
    from pantau_tools.progress import progress

    settings = PublishingSettings()
    configure(settings.log_level, "publishing-rebuild")
    es = make_client(settings.elasticsearch_url, timeout=max(30.0, args.rpc_timeout))
    targets = (args.only,) if args.only else TARGETS
    with ExitStack() as stack:
        total: int | None
        if args.source == "database":
            from pantau_tools.snapshot import planned

            total, records = planned(stack, args.database_url, targets, workers=args.workers,
                                     page_size=args.page_size or 1000)
        else:
            total, records = from_rpc(stack, settings, args, args.page_size or 500)
        bar = stack.enter_context(progress(sys.stderr, total, "rebuild"))
        report = rebuild(es, Aliases.from_settings(settings), records, targets=targets,
                         progress=bar.update, patience=args.patience, batch=args.bulk_size,
                         concurrency=args.concurrency)
    sys.stdout.write(summary(report))
    return 1 if any(swap.failed for swap in report.swaps) else 0


def from_rpc(stack: Any, settings: Any, args: argparse.Namespace,
             page_size: int) -> tuple[int | None, Any]:
    """Pages of ``list_public_cases`` over nameko RPC, asked for patiently."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from pantau_publishing.service.paging import pages
    from pantau_tools.rpc import patiently

    cluster = stack.enter_context(ClusterRpcProxy({"AMQP_URI": settings.amqp_url},
                                                  timeout=args.rpc_timeout))

    def fetch(after: str | None, limit: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = getattr(cluster, args.service).list_public_cases(
            after, limit)
        return result

    try:  # for the ETA only: a tracking without count_cases still rebuilds
        total: int | None = int(getattr(cluster, args.service).count_cases())
    except Exception:  # noqa: BLE001 - unknown total: the progress shows count and rate
        total = None
    return total, pages(patiently(fetch, patience=args.patience), page_size)


def summary(report: RebuildReport) -> str:
    """One line for the records, then one per swapped alias."""
    lines = [f"{report.indexed} records, {report.skipped} skipped"]
    unit = {"cases": "cases", "changes": "timeline entries"}
    lines += [f"alias {s.alias} → {s.new_index}: {s.documents} {unit[s.target]}, "
              f"{s.caught_up} caught up" + (f", {s.failed} FAILED" if s.failed else "")
              + f"; removed {', '.join(s.old_indices) or 'nothing'}" for s in report.swaps]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
