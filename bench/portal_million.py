"""Benchmark: the public portal over a large index, 16 concurrent clients, against raw ES.

    .venv/bin/python -m bench.portal_million --quick    # 50,000 cases, 15 s (make bench)
    .venv/bin/python -m bench.portal_million [--full]   # 1,000,000 cases, 60 s per phase
    [--docs N] [--seconds S] [--clients 16] [--workers W] [--keep] [--reuse TAG]

Loads N public cases into throw-away aliases (``pmill-<tag>-cases``/``-changes``; the dev
alias is untouched), built from the publishing factories (``tests/unit/publishing/factories``)
through ``clean_case`` and ``case_document``: the real record and the real mapping. Several
jurisdictions, departments, services, statuses, kecamatan and submission dates (last 180
days). Then it starts the real portal (``python -m pantau_publishing.portal``, a subprocess)
on those aliases and drives ``--clients`` concurrent clients (httpx, asyncio) for
``--seconds`` over a mix: search with free text and facets (results page), case page, case API,
dashboard of a jurisdiction, Open311 request list.

Raw baseline, in the same run: each sampled portal request is first replayed once through the
portal's own code in-process with a recording Elasticsearch client, which notes every request
it sends; the same clients then send exactly those Elasticsearch requests straight to
Elasticsearch for the same duration. ``ratio`` per route = portal p50 / raw p50 (and req/s).
Prints one JSON object; deletes the indices at the end (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from pantau_publishing.adapters.search.bootstrap import bootstrap, drop
from pantau_publishing.adapters.search.client import Aliases, make_client
from pantau_publishing.domain.record import case_document, clean_case
from tests.unit.publishing.factories import public_case

ROOT = Path(__file__).resolve().parent.parent
JURISDICTIONS = [("kota-bandung", "BDG"), ("kab-bandung", "KBD"), ("kota-bekasi", "BKS"),
                 ("kab-bogor", "BGR"), ("kota-depok", "DPK"), ("kab-garut", "GRT")]
SERVICES = [("dpmptsp", "pbg"), ("dpmptsp", "slf"), ("dpmptsp", "izin-apotek"),
            ("disdukcapil", "ktp-el"), ("disdukcapil", "kartu-keluarga"),
            ("disdukcapil", "akta-kelahiran")]
KECAMATAN = ["Coblong", "Sukajadi", "Cicendo", "Andir", "Bojongloa", "Lengkong", "Cibeunying",
             "Antapani", "Arcamanik", "Buahbatu", "Kiaracondong", "Rancasari"]
STATUS_STEPS = [(1, False), (2, False), (3, False), (4, False), (4, False), (2, True)]
"""(timeline steps, withdrawn): diterima, verifikasi, diproses, selesai (twice as common),
dibatalkan."""
DAYS, DAY_STEP = 180, 3  # submission dates: every third day of the last 180
WORDS = ["pbg", "ktp", "bandung", "bekasi", "coblong", "andir", "persetujuan", "permit",
         "kelahiran", "keluarga", "selesai", "diproses", "depok", "garut lengkong",
         "pbg coblong", "teknis", "verifikasi berkas"]
WEIGHTS = {"search": 35, "case_page": 25, "case_api": 20, "dashboard": 10, "open311": 10}


def now_day() -> datetime:
    return datetime.now(UTC).replace(hour=1, minute=15, second=0, microsecond=0)


class Templates:
    """One factory-built, cleaned index document per (jurisdiction, service, status, day),
    serialised once with placeholders; a case is a template with its own receipt number and
    kecamatan (string replacement: building 1 M records through pydantic would take longer
    than indexing them)."""

    def __init__(self, seed: int) -> None:
        self._built: dict[tuple[int, int, int, int], str] = {}
        self._random = random.Random(seed)
        self._today = now_day()

    def _template(self, key: tuple[int, int, int, int]) -> str:
        found = self._built.get(key)
        if found is None:
            j, s, st, day = key
            (jurisdiction, _prefix), (department, service) = JURISDICTIONS[j], SERVICES[s]
            steps, withdrawn = STATUS_STEPS[st]
            record = public_case("XXXX-RECEIPT", revision=steps + withdrawn, steps=steps,
                                 withdrawn=withdrawn, jurisdiction=jurisdiction,
                                 department=department, service=service,
                                 kecamatan="KECAMATAN", overdue=day % 9 == 0 and steps < 4,
                                 elapsed=float(day % 15),
                                 submitted_at=self._today - timedelta(days=day),
                                 delays={2: 3} if day % 11 == 0 else None)
            found = json.dumps(case_document(clean_case(record)), separators=(",", ":"))
            self._built[key] = found
        return found

    def document(self, number: int) -> tuple[str, str]:
        """(receipt number, JSON document) of case ``number``."""
        r = self._random
        j = r.randrange(len(JURISDICTIONS))
        key = (j, r.randrange(len(SERVICES)), r.randrange(len(STATUS_STEPS)),
               r.randrange(0, DAYS, DAY_STEP))
        receipt = f"{JURISDICTIONS[j][1]}-{SERVICES[key[1]][1][:3].upper()}-{number:08d}"
        text = self._template(key).replace("XXXX-RECEIPT", receipt).replace(
            "KECAMATAN", r.choice(KECAMATAN))
        return receipt, text


def load(url: str, alias: str, docs: int, seed: int = 13) -> dict[str, Any]:
    """Bulk-load ``docs`` cases into ``alias`` (two connections, 5,000 per request; refresh
    off while loading, then back to the template's 500 ms)."""
    templates = Templates(seed)
    client = httpx.Client(base_url=url, timeout=300)
    client.put(f"/{alias}/_settings", json={"index": {"refresh_interval": "-1"}})
    batches: list[bytes] = []
    lock = threading.Lock()
    errors: list[str] = []

    def send() -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            while True:
                with lock:
                    if not batches:
                        return
                    body = batches.pop()
                answer = http.post("/_bulk", content=body,
                                   headers={"Content-Type": "application/x-ndjson"}).json()
                if answer.get("errors"):
                    errors.append(json.dumps(answer["items"][0])[:300])

    started = time.perf_counter()
    step = 5000
    for start in range(0, docs, step):
        lines = []
        for number in range(start, min(docs, start + step)):
            receipt, text = templates.document(number)
            lines.append(f'{{"index":{{"_index":"{alias}","_id":"{receipt}"}}}}\n{text}\n')
        batches.append("".join(lines).encode())
        if len(batches) >= 4 or start + step >= docs:
            workers = [threading.Thread(target=send) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            sys.stderr.write(f"\rloaded {min(docs, start + step):,}/{docs:,}")
    client.put(f"/{alias}/_settings", json={"index": {"refresh_interval": "500ms"}})
    client.post(f"/{alias}/_refresh")
    seconds = time.perf_counter() - started
    count = client.get(f"/{alias}/_count").json()["count"]
    sys.stderr.write("\n")
    return {"docs": count, "seconds": round(seconds, 1),
            "docs_per_second": round(docs / seconds), "errors": errors[:3]}


def sample_receipts(url: str, alias: str, count: int = 500) -> list[str]:
    answer = httpx.post(f"{url}/{alias}/_search", json={
        "size": count, "_source": False, "query": {"function_score": {
            "random_score": {"seed": 13, "field": "_seq_no"}}}}, timeout=60).json()
    return [hit["_id"] for hit in answer["hits"]["hits"]]


def request_paths(receipts: list[str], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` (route, path) pairs drawn by ``WEIGHTS``: the same sequence for both runs."""
    r = random.Random(seed)
    routes = [name for name, weight in WEIGHTS.items() for _ in range(weight)]
    out = []
    for _ in range(count):
        route = r.choice(routes)
        jurisdiction = r.choice(JURISDICTIONS)[0]
        if route == "search":
            params: dict[str, str] = {"q": r.choice(WORDS)}
            facet = r.randrange(6)
            if facet == 1:
                params["status"] = r.choice(["diterima", "diproses", "selesai"])
            elif facet == 2:
                params["jurisdiction"] = jurisdiction
            elif facet == 3:
                params["department"] = f"{jurisdiction}/{r.choice(SERVICES)[0]}"
            elif facet == 4:
                params["kecamatan"] = r.choice(KECAMATAN)
            if r.random() < 0.2:
                params["page"] = str(r.randint(2, 5))
            out.append((route, "/?" + httpx.QueryParams(params).__str__()))
        elif route == "case_page":
            out.append((route, f"/kasus/{r.choice(receipts)}"))
        elif route == "case_api":
            out.append((route, f"/api/v1/cases/{r.choice(receipts)}"))
        elif route == "dashboard":
            out.append((route, f"/dasbor/{jurisdiction}"))
        else:
            status = r.choice(["", "&status=open", "&status=closed"])
            out.append((route, f"/open311/v2/requests.json?jurisdiction_id={jurisdiction}"
                               f"{status}"))
    return out


class RecordingEs:
    """Wraps the portal's Elasticsearch client and notes each request as
    (method, path, params, body) — what the raw baseline sends again."""

    def __init__(self, es: Any, sink: list[tuple[str, str, dict[str, Any], Any]]) -> None:
        self._es, self._sink = es, sink

    def search(self, *, index: str, body: dict[str, Any] | None = None,
               **params: Any) -> Any:
        self._sink.append(("POST", f"/{index}/_search", _params(params), body))
        return self._es.search(index=index, body=body, **params)

    def msearch(self, *, searches: list[dict[str, Any]], index: str | None = None,
                **params: Any) -> Any:
        ndjson = "".join(json.dumps(line) + "\n" for line in searches)
        self._sink.append(("POST", f"/{index}/_msearch" if index else "/_msearch",
                           _params(params), ndjson))
        return self._es.msearch(searches=searches, index=index, **params)

    def get(self, *, index: str, id: str, **params: Any) -> Any:  # noqa: A002 - ES's name
        self._sink.append(("GET", f"/{index}/_doc/{id}", _params(params), None))
        return self._es.get(index=index, id=id, **params)

    def mget(self, *, index: str, ids: list[str], **params: Any) -> Any:
        self._sink.append(("POST", f"/{index}/_mget", _params(params), {"ids": ids}))
        return self._es.mget(index=index, ids=ids, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._es, name)


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}


def record_es_calls(url: str, aliases: Aliases, paths: list[tuple[str, str]]
                    ) -> dict[str, list[tuple[str, str, dict[str, Any], Any]]]:
    """The Elasticsearch requests the portal's code sends for each distinct path once warm:
    each path is visited twice and the second visit's requests kept (an Open311 list fetches
    its cases whole only the first time; ``service.rendered``)."""
    from fastapi.testclient import TestClient

    from pantau_publishing.adapters.search.store import EsCaseReader
    from pantau_publishing.portal.app import create_app
    from pantau_publishing.service.records import PublicRecords
    from pantau_publishing.settings import PublishingSettings

    sink: list[tuple[str, str, dict[str, Any], Any]] = []
    es = make_client(url)
    reader = EsCaseReader(RecordingEs(es, sink), aliases)  # type: ignore[arg-type]
    app = create_app(PublishingSettings(index_alias=aliases.cases,
                                        changes_alias=aliases.changes),
                     records=PublicRecords(reader))
    calls: dict[str, list[tuple[str, str, dict[str, Any], Any]]] = {}
    with TestClient(app) as client:
        for _route, path in paths:
            if path in calls:
                continue
            client.get(path, follow_redirects=False)
            sink.clear()
            client.get(path, follow_redirects=False)
            calls[path] = list(sink)
    es.close()
    return calls


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)


async def drive(clients: int, seconds: float, jobs: list[tuple[str, Any]],
                send: Callable[[httpx.AsyncClient, Any], Any], base: str
                ) -> dict[str, Any]:
    """``clients`` loops, each taking the next job, for ``seconds``; latency per route."""
    latencies: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    position = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        async def loop() -> None:
            nonlocal position
            while time.perf_counter() < deadline:
                route, job = jobs[position % len(jobs)]
                position += 1
                started = time.perf_counter()
                try:
                    ok = await send(http, job)
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.setdefault(route, []).append(
                        (time.perf_counter() - started) * 1000)
                else:
                    failures[route] = failures.get(route, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    routes = {route: {"requests": len(values), "per_second": round(len(values) / elapsed, 1),
                      "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}
              for route, values in sorted(latencies.items())}
    total = sum(len(v) for v in latencies.values())
    return {"per_second": round(total / elapsed, 1), "routes": routes, "failures": failures}


async def portal_send(http: httpx.AsyncClient, path: str) -> bool:
    answer = await http.get(path, follow_redirects=False)
    return answer.status_code < 400


async def raw_send(http: httpx.AsyncClient, calls: list[tuple[str, str, dict[str, Any], Any]]
                   ) -> bool:
    for method, path, params, body in calls:
        if isinstance(body, str):
            answer = await http.request(method, path, params=params, content=body,
                                        headers={"Content-Type": "application/x-ndjson"})
        else:
            answer = await http.request(method, path, params=params, json=body)
        if answer.status_code >= 400 and answer.status_code != 404:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_portal(url: str, aliases: Aliases, workers: int, state: str
                 ) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PANTAU_ELASTICSEARCH_URL": url, "PANTAU_INDEX_ALIAS": aliases.cases,
           "PANTAU_CHANGES_ALIAS": aliases.changes, "PANTAU_PORTAL_PORT": str(port),
           "PANTAU_PORTAL_METRICS_PORT": "0", "PANTAU_STATE_DIR": state,
           "PANTAU_PORTAL_WORKERS": str(workers), "PANTAU_LOG_LEVEL": "WARNING"}
    log = open(Path(state) / "portal.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "pantau_publishing.portal"], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code < 500:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    log_text = (Path(state) / "portal.log").read_text()[-2000:]
    raise SystemExit(f"the portal did not start: {log_text}")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 cases, 15 s per phase")
    parser.add_argument("--full", action="store_true", help="1,000,000 cases, 60 s per phase")
    parser.add_argument("--docs", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=int(os.environ.get(
        "PANTAU_PORTAL_WORKERS", "0")), help="portal worker processes (0: its default)")
    parser.add_argument("--keep", action="store_true", help="keep the indices (see --reuse)")
    parser.add_argument("--reuse", help="the tag of indices kept by an earlier --keep run")
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--profile", help="py-spy record the portal under load into this file "
                                          "(collapsed stacks; needs py-spy and ptrace)")
    args = parser.parse_args()
    docs = args.docs or (50_000 if args.quick and not args.full else 1_000_000)
    seconds = args.seconds or (15.0 if args.quick and not args.full else 60.0)
    url = os.environ.get("PANTAU_ELASTICSEARCH_URL", "http://127.0.0.1:9200").split(",")[0]
    tag = args.reuse or uuid.uuid4().hex[:8]
    aliases = Aliases(f"pmill-{tag}-cases", f"pmill-{tag}-changes")
    es = make_client(url, 120)
    result: dict[str, Any] = {"benchmark": "portal_million", "clients": args.clients,
                              "seconds": seconds, "tag": tag, "cpus": os.cpu_count()}
    try:
        if args.reuse:
            result["load"] = {"docs": es.count(index=aliases.cases)["count"], "reused": True}
        else:
            bootstrap(es, aliases)
            result["load"] = load(url, aliases.cases, docs)
        receipts = sample_receipts(url, aliases.cases)
        paths = request_paths(receipts, 1200)  # cycled; each distinct one is recorded once
        with tempfile.TemporaryDirectory(prefix="pmill-") as state:
            os.environ["PANTAU_STATE_DIR"] = state  # the recording app's SQLite stores too
            calls = record_es_calls(url, aliases, paths)
            result["load_average_before"] = load_average()
            portal, base = start_portal(url, aliases, args.workers, state)
            try:
                for _route, path in paths[:50]:  # warm: imports, templates, connections
                    httpx.get(base + path, timeout=30)
                spy = None if not args.profile else subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "-p",
                     str(portal.pid), "-s", "-r", "200", "-f", "raw", "-o", args.profile,
                     "-d", str(int(seconds))], stdout=subprocess.DEVNULL)
                result["portal"] = asyncio.run(drive(args.clients, seconds, paths,
                                                     portal_send, base))
                if spy is not None:
                    spy.wait(60)
                result["portal"]["pid"] = portal.pid
            finally:
                portal.terminate()
                portal.wait(30)
        if not args.skip_raw:
            jobs = [(route, calls[path]) for route, path in paths]
            result["raw"] = asyncio.run(drive(args.clients, seconds, jobs, raw_send, url))
            result["ratio_p50"] = {
                route: round(figures["p50_ms"] / raw["p50_ms"], 2)
                for route, figures in result["portal"]["routes"].items()
                if (raw := result["raw"]["routes"].get(route)) and raw["p50_ms"]}
            result["ratio_per_second"] = round(
                result["portal"]["per_second"] / result["raw"]["per_second"], 3)
        result["es_requests_per_route"] = {
            route: max(len(calls[p]) for r, p in paths if r == route) for route in WEIGHTS}
        result["load_average_after"] = load_average()
        result["goal"] = {"search_p99_ms<=50": _p99(result, "search") <= 50,
                          "case_page_p99_ms<=100": _p99(result, "case_page") <= 100}
    finally:
        if not args.keep:
            drop(es, aliases)
        es.close()
    print(json.dumps(result, indent=1))
    return 0


def _p99(result: dict[str, Any], route: str) -> float:
    found = result.get("portal", {}).get("routes", {}).get(route, {}).get("p99_ms")
    return float(found) if found is not None else float("inf")


if __name__ == "__main__":
    raise SystemExit(main())
