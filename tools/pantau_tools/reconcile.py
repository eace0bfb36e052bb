"""Does the public index equal tracking's record? — a read-only diff for operators.

    python -m pantau_tools.reconcile [--page-size 500] [--limit 100] [--service tracking]

Pages through tracking's RPC ``tracking.list_public_cases(after, limit)`` with a nameko
``ClusterRpcProxy`` (like ``pantau_tools.rebuild``, this CLI is a nameko-side process:
eventlet is patched first), refreshes and reads the cases alias (``PANTAU_INDEX_ALIAS``: receipt
number, revision and timeline ``seq`` of every document) and counts the changes alias
(``PANTAU_CHANGES_ALIAS``), then prints one JSON document (``service.reconcile``)::

    {"equal": false, "tracking": 400, "index": 399,
     "missing": ["BDG-..."], "extra": [], "stale": [{"receipt_number": ..., "tracking_revision":
     4, "index_revision": 3, "tracking_entries": 4, "index_entries": 3}],
     "counts": {"missing": 1, "extra": 0, "stale": 1},
     "changes": {"tracking": 1600, "index": 1596}, "limit": 100}

Lists are capped at ``--limit`` (sorted by receipt number); counts are complete. Exit status:
0 equal, 1 different, 2 could not compare (tracking or Elasticsearch did not answer; the error
is on stderr). Nothing is written anywhere; to repair, run ``python -m pantau_tools.rebuild``
(or replay the missing updates). Cases changing while it runs may show as stale: run it again.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402 - eventlet must patch before anything else is imported
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from pantau_platform.logging import configure  # noqa: E402
from pantau_publishing.adapters.search.client import Aliases, make_client  # noqa: E402
from pantau_publishing.adapters.search.reconcile import (  # noqa: E402
    change_count,
    index_summaries,
    refresh,
)
from pantau_publishing.service.paging import pages  # noqa: E402
from pantau_publishing.service.reconcile import Report, Summary, reconcile  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402

log = logging.getLogger("pantau_tools.reconcile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Diff Pantau's public index against tracking's record (read-only)")
    # 100: a page of 500 cases with long timelines made tracking's reply larger than the broker's
    # max_message_size (1 MiB) — refused, and the refusal stopped tracking (the cluster run)
    parser.add_argument("--page-size", type=int, default=100,
                        help="records per list_public_cases call (default 100)")
    parser.add_argument("--limit", type=int, default=100,
                        help="at most this many receipts per list (counts are complete)")
    parser.add_argument("--rpc-timeout", type=float, default=60.0)
    parser.add_argument("--service", default="tracking",
                        help="nameko service offering list_public_cases (default: tracking)")
    args = parser.parse_args(argv)
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-reconcile")
    try:
        report = compare(settings, args.service, args.page_size, args.limit, args.rpc_timeout)
    except Exception as exc:  # noqa: BLE001 - said plainly; the operator retries
        log.error("could not compare the index with tracking: %s: %s", type(exc).__name__, exc)
        sys.stderr.write(f"reconcile: could not compare: {type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0 if report.equal else 1


def compare(settings: PublishingSettings, service: str, page_size: int, limit: int,
            rpc_timeout: float) -> Report:
    aliases = Aliases.from_settings(settings)
    es = make_client(settings.elasticsearch_url)
    try:
        with ClusterRpcProxy({"AMQP_URI": settings.amqp_url}, timeout=rpc_timeout) as cluster:
            def fetch(after: str | None, size: int) -> list[dict[str, Any]]:
                result: list[dict[str, Any]] = getattr(cluster, service).list_public_cases(
                    after, size)
                return result

            def tracking() -> Iterator[Summary]:
                for record in pages(fetch, page_size):
                    yield Summary.of(record)

            expected = list(tracking())  # first: the index is read after, so it is not older
        refresh(es, aliases)
        return reconcile(expected, index_summaries(es, aliases),
                         index_changes=change_count(es, aliases), limit=limit)
    finally:
        es.close()


if __name__ == "__main__":
    raise SystemExit(main())
