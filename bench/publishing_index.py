"""Benchmark: indexing throughput and search latency of publishing on the real Elasticsearch.

    .venv/bin/python -m bench.publishing_index [--cases 2000] [--batch 100] [--searches 200]

Uses its own throw-away aliases (``pbench-<id>-cases``), so the dev alias is untouched. Prints
one JSON object: cases/s through ``IndexBatch`` (decode + clean + bulk), and p50/p95/max of
search-with-facets and of real-time case GETs, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid

from pantau_publishing.adapters.search.bootstrap import bootstrap, drop
from pantau_publishing.adapters.search.client import Aliases, make_client
from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.domain.query import parse_query
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from tests.unit.publishing.factories import case_updated, public_case

KECAMATAN = ["Coblong", "Sukajadi", "Cicendo", "Andir", "Bojongloa", "Lengkong"]
SERVICES = [("dpmptsp", "pbg"), ("dpmptsp", "slf"), ("disdukcapil", "ktp"), ("disdukcapil", "kk")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    es = make_client(os.environ.get("PANTAU_ELASTICSEARCH_URL", "http://127.0.0.1:9200"))
    tag = uuid.uuid4().hex[:8]
    aliases = Aliases(f"pbench-{tag}-cases", f"pbench-{tag}-changes")
    bootstrap(es, aliases)
    try:
        messages = []
        for i in range(args.cases):
            department, service = SERVICES[i % len(SERVICES)]
            record = public_case(f"BENCH-{i:07d}", revision=1 + i % 4, department=department,
                                 service=service, kecamatan=KECAMATAN[i % len(KECAMATAN)],
                                 overdue=i % 7 == 0, elapsed=float(i % 15))
            messages.append(ReceivedMessage(case_updated(record)))
        handler = IndexBatch(EsSearchIndex(es, aliases))
        started = time.perf_counter()
        for start in range(0, len(messages), args.batch):
            handler.handle(messages[start:start + args.batch])
        index_seconds = time.perf_counter() - started
        es.indices.refresh(index=f"{aliases.cases},{aliases.changes}")
        records = PublicRecords(EsCaseReader(es, aliases))
        search_ms, get_ms = [], []
        for i in range(args.searches):
            query = parse_query({"q": KECAMATAN[i % len(KECAMATAN)].lower(),
                                 "department": SERVICES[i % len(SERVICES)][0]})
            t0 = time.perf_counter()
            records.search(query)
            search_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            records.case(f"BENCH-{(i * 37) % args.cases:07d}")
            get_ms.append((time.perf_counter() - t0) * 1000)
        result = {
            "benchmark": "publishing_index", "cases": args.cases, "batch": args.batch,
            "index_cases_per_second": round(args.cases / index_seconds, 1),
            "search_ms": {"p50": round(statistics.median(search_ms), 2),
                          "p95": percentile(search_ms, 0.95), "max": round(max(search_ms), 2)},
            "get_case_ms": {"p50": round(statistics.median(get_ms), 2),
                            "p95": percentile(get_ms, 0.95), "max": round(max(get_ms), 2)},
        }
        sys.stdout.write(json.dumps(result) + "\n")
    finally:
        drop(es, aliases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
