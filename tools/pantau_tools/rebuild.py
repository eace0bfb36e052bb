"""Rebuild the public indices from tracking (the system of record), with no downtime.

    python -m pantau_tools.rebuild [--only cases|changes] [--page-size 500]

Pages through tracking's RPC ``tracking.list_public_cases(after, limit)`` with a nameko
``ClusterRpcProxy`` (this CLI is a nameko-side process: eventlet is patched first), fills a new
cases index (``PANTAU_INDEX_ALIAS``) and a new changes index (``PANTAU_CHANGES_ALIAS``, one
document per public timeline entry — what the Atom/JSON feeds read) in one pass, and swaps both
aliases in one atomic call (see ``adapters.search.rebuild``). ``--only`` rebuilds just one of them.
Tracking answers with ``PublicCaseV2`` dicts (both clocks); a ``PublicCaseV1`` dict from a
tracking not yet upgraded is accepted too and upgraded (``domain.record.clean_case``).

Outages are waited out for up to ``--patience`` seconds (default 600) each: a page tracking does
not answer (restarting, its database away) is asked for again (``pantau_tools.rpc``), a
bulk Elasticsearch cannot take is sent again (``adapters.search.rebuild.bulk_patiently``).
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402 - eventlet must patch before anything else is imported
import logging  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from tqdm import tqdm  # noqa: E402

from pantau_platform.logging import configure  # noqa: E402
from pantau_publishing.adapters.search.client import Aliases, make_client  # noqa: E402
from pantau_publishing.adapters.search.rebuild import TARGETS, RebuildReport, Target, rebuild  # noqa: E402
from pantau_publishing.service.paging import pages  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402
from pantau_tools.rpc import patiently  # noqa: E402

log = logging.getLogger("pantau_tools.rebuild")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Rebuild Pantau's public indices (cases, changes) from tracking")
    parser.add_argument("--only", choices=TARGETS,
                        help="rebuild just this index (default: both cases and changes)")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--rpc-timeout", type=float, default=60.0)
    parser.add_argument("--patience", type=float, default=600.0,
                        help="seconds to wait out a tracking or Elasticsearch outage (default 600)")
    parser.add_argument("--service", default="tracking",
                        help="nameko service offering list_public_cases (default: tracking)")
    args = parser.parse_args(argv)
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-rebuild")
    es = make_client(settings.elasticsearch_url)
    config = {"AMQP_URI": settings.amqp_url}
    with ClusterRpcProxy(config, timeout=args.rpc_timeout) as cluster, \
            tqdm(unit=" kasus", desc="rebuild") as bar:
        def fetch(after: str | None, limit: int) -> list[dict[str, Any]]:
            proxy = getattr(cluster, args.service)
            result: list[dict[str, Any]] = proxy.list_public_cases(after, limit)
            return result

        targets: tuple[Target, ...] = (args.only,) if args.only else TARGETS
        report = rebuild(es, Aliases.from_settings(settings),
                         pages(patiently(fetch, patience=args.patience), args.page_size),
                         targets=targets, progress=bar.update, patience=args.patience)
    sys.stdout.write(summary(report))
    return 1 if any(swap.failed for swap in report.swaps) else 0


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
