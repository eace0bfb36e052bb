"""Rebuild the public index from tracking (the system of record), with no downtime.

    python -m pantau_publishing.rebuild [--page-size 500]

Pages through tracking's RPC ``tracking.list_public_cases(after, limit)`` with a nameko
``ClusterRpcProxy`` (this CLI is a nameko-side process: eventlet is patched first), fills a new
index and swaps the ``PANTAU_INDEX_ALIAS`` alias atomically (see ``search.rebuild``).
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402 - eventlet must patch before anything else is imported
import logging  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from tqdm import tqdm  # noqa: E402

from pantau_platform.logging import configure  # noqa: E402
from pantau_publishing.search.client import Aliases, make_client  # noqa: E402
from pantau_publishing.search.rebuild import rebuild  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402

log = logging.getLogger("pantau_publishing.rebuild")


def pages(fetch: Callable[[str | None, int], list[dict[str, Any]]],
          page_size: int) -> Iterator[dict[str, Any]]:
    """Every record from a keyset-paged source ordered by receipt number."""
    after: str | None = None
    while True:
        page = fetch(after, page_size)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1]["receipt_number"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild Pantau's public index from tracking")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--rpc-timeout", type=float, default=60.0)
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

        report = rebuild(es, Aliases.from_settings(settings), pages(fetch, args.page_size),
                         progress=bar.update)
    sys.stdout.write(f"alias {settings.index_alias} → {report.new_index}: "
                     f"{report.indexed} records, {report.skipped} skipped, "
                     f"{report.caught_up} caught up; removed "
                     f"{', '.join(report.old_indices) or 'nothing'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
