"""The multi-node run: while a department sends continuously (the chaos matrix's load: signed
HTTP batches to either intake instance, and ``pantau_client``'s AMQP sender given all three
RabbitMQ nodes), SIGKILL one RabbitMQ node, then one Elasticsearch node, then one instance of
each Pantau process — each restarted with ``infra/cluster.sh up`` once the system has shown it
keeps working without it. Afterwards nothing is lost, no timeline entry appears twice, the public
index equals tracking's record (``pantau_tools.reconcile``), and freshness (an event's
way from intake to the index) is back to what it was before the faults. The figures are printed
as JSON and written to ``<state>/cluster/failover.json``."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from itertools import cycle
from typing import Any

import httpx
import pytest

from pantau_platform.endpoints import first_url
from pantau_platform.topology import ManagementClient
from tests.chaos.harness import converge, reconcile, timeline_problems
from tests.chaos.load import HttpChannel, Load
from tests.chaos.observe import Observer
from tests.cluster.conftest import Cluster
from tests.conftest import wait_for

pytestmark = pytest.mark.cluster
HTTP_RATE = float(os.environ.get("PANTAU_CLUSTER_HTTP_RATE", "6"))
AMQP_RATE = float(os.environ.get("PANTAU_CLUSTER_AMQP_RATE", "2"))
PANTAU = ("tracking", "intake-ingress", "intake-http", "indexer", "portal")
FAULTS = {"rabbitmq-node": ["rabbitmq-1"], "elasticsearch-node": ["elasticsearch-1"],
          "pantau-instances": [f"{p}-1" for p in PANTAU]}


class BothIntakes(HttpChannel):
    """The department's HTTP client with both intake addresses: a refused connection or a
    timeout moves it to the other instance (as a load balancer would)."""

    urls: Any

    def backoff(self, attempt: int, hint: float | None = None) -> None:
        self.url = next(self.urls)
        super().backoff(attempt, hint)


class Run:
    """What ``tests.chaos.harness``'s checks need: an observer and the processes' liveness."""

    def __init__(self, cluster: Cluster, observer: Observer) -> None:
        self.cluster = cluster
        self.observer = observer
        self.reconcile_before: dict[str, Any] | None = None
        self.reconcile_equal_before = True

    def exited(self) -> list[str]:
        return [f"not running: {line}" for line in self.cluster.exited()]


def observer_for(cluster: Cluster) -> Observer:
    """The chaos observer, looking through the first node (the tools take one URL)."""
    env = cluster.env
    observer = Observer({**env, "PANTAU_AMQP_URL": first_url(env["PANTAU_AMQP_URL"]),
                         "PANTAU_ELASTICSEARCH_URL": first_url(env["PANTAU_ELASTICSEARCH_URL"])})
    observer.env = dict(env)  # reconcile itself is given every node
    return observer


def indexed_cases(es_urls: list[str], alias: str) -> int:
    """Documents in the cases index, asked of any node that answers (one may be down)."""
    for url in es_urls:
        try:
            response = httpx.get(f"{url}/{alias}/_count", timeout=5)
            if response.status_code == 200:
                return int(response.json()["count"])
        except httpx.HTTPError:
            continue
    return -1


def freshness(observer: Observer, load: Load, timeout: float = 180) -> float:
    """Seconds until every event handed over so far is in the index: the age of the oldest
    event not yet searchable, right now (an upper bound of received -> searchable)."""
    began = time.monotonic()
    wanted = {case.receipt: case.sent for case in load.cases}

    def searchable() -> bool:
        docs = observer.documents(sorted(wanted))
        for receipt, doc in docs.items():
            if doc and int(doc.get("revision") or 0) >= wanted[receipt]:
                del wanted[receipt]
        return not wanted

    wait_for(searchable, timeout=timeout, interval=0.1, message="handed-over events searchable")
    return round(time.monotonic() - began, 2)


def test_cluster_survives_a_node_of_everything(cluster: Cluster) -> None:
    started = time.monotonic()
    observer = observer_for(cluster)
    run = Run(cluster, observer)
    es_urls = [u for u in cluster.env["PANTAU_ELASTICSEARCH_URL"].split(",") if u]
    alias = cluster.env["PANTAU_INDEX_ALIAS"]
    dead_before = observer.dead_letters()
    tag = uuid.uuid4().hex[:5].upper()
    intakes = [f"http://127.0.0.1:{port}" for port in
               (cluster.env["PANTAU_INTAKE_PORT"], int(cluster.env["PANTAU_INTAKE_PORT"]) + 10)]
    load = Load(prefix=f"BDG-PBG-CL-{tag}", intake_url=intakes[0],
                amqp_url=cluster.env["PANTAU_AMQP_URL"], spool=cluster.state / f"spool-{tag}.jsonl",
                http_rate=HTTP_RATE, amqp_rate=AMQP_RATE, max_events=100_000, max_seconds=1500)
    load.http.__class__ = BothIntakes
    load.http.urls = cycle([f"{u}/v1/events" for u in (intakes[1], intakes[0])])
    report: dict[str, Any] = {"faults": []}
    problems: list[str] = []
    load.start()
    try:
        wait_for(lambda: load.http.stats.events >= 20 and load.amqp.stats.events >= 4,
                 timeout=120, interval=0.1, message="events flowing before the faults")
        report["freshness_before_s"] = freshness(observer, load)
        for name, components in FAULTS.items():
            report["faults"].append(fault(cluster, load, name, components, es_urls, alias))
            print(json.dumps(report["faults"][-1]), flush=True)  # progress, with -s
        report["freshness_after_s"] = freshness(observer, load)
    finally:
        load.stop()
    load.join(timeout=300)
    problems += load.errors() + load.unfinished()
    if load.unfinished():
        load.abandon()

    cases = {case.receipt: case for case in load.cases}
    outcome, converged_at = converge(run, cases, dead_before, timeout=300)  # type: ignore[arg-type]
    if converged_at is None:
        problems.append(outcome)
    problems += timeline_problems(run, cases)  # type: ignore[arg-type]
    report["reconcile"] = reconcile(run, set(cases), problems)  # type: ignore[arg-type]
    dead = observer.dead_letters() - dead_before
    if dead:
        problems.append(f"{dead} dead letter(s): {json.dumps(observer.dead_letter_sample())[:800]}")
    docs = observer.documents(sorted(cases))
    report.update(
        # sent: handed over by the department (HTTP 2xx, AMQP confirmed or spooled and flushed)
        events_sent=load.events, events_http=load.http.stats.events,
        events_amqp=load.amqp.stats.events, amqp_spooled_max=load.amqp.spooled_max,
        http_retries=load.http.stats.retries, http_answers=load.http.stats.answers,
        events_indexed=sum(int((d or {}).get("revision") or 0) for d in docs.values()),
        cases=len(cases), dead_letters=dead, run_s=round(time.monotonic() - started, 1),
        quorum_members=queue_members(cluster), index_replicas=replicas(es_urls, alias))
    observer.close()
    if report["freshness_after_s"] > max(10.0, 3 * report["freshness_before_s"]):
        problems.append(f"freshness not recovered: {report['freshness_after_s']}s after, "
                        f"{report['freshness_before_s']}s before")
    report["events_accepted"] = tracked(cluster, cases)
    if not report["events_sent"] == report["events_accepted"] == report["events_indexed"]:
        problems.append(f"sent {report['events_sent']}, accepted by tracking "
                        f"{report['events_accepted']}, indexed {report['events_indexed']}")
    report["ok"] = not problems
    report["problems"] = problems
    text = json.dumps(report, indent=1)
    print("\ncluster failover figures:\n" + text)
    (cluster.state / "failover.json").write_text(text + "\n")
    assert not problems, "\n".join(problems)


def fault(cluster: Cluster, load: Load, name: str, components: list[str], es_urls: list[str],
          alias: str) -> dict[str, Any]:
    """SIGKILL ``components``; hold until the department got events through (and, with an
    Elasticsearch node down, cases got indexed) without them; restart; wait for events again."""
    events, indexed = load.events, indexed_cases(es_urls, alias)
    pids = [cluster.pid(c) for c in components]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    http_before = load.http.stats.events
    wait_for(lambda: load.http.stats.events > http_before, timeout=180, interval=0.05,
             message=f"{name}: an HTTP batch accepted after the kill")
    first_accept = time.monotonic() - killed
    wait_for(lambda: load.events >= events + 30, timeout=180, interval=0.1,
             message=f"{name}: events accepted while down")
    wait_for(lambda: indexed_cases(es_urls, alias) > indexed, timeout=180, interval=0.5,
             message=f"{name}: cases indexed while down")
    held = time.monotonic() - killed
    during = load.events - events
    restarting = time.monotonic()
    cluster.up()
    restart = time.monotonic() - restarting
    after = load.events
    wait_for(lambda: load.events >= after + 10, timeout=180, interval=0.1,
             message=f"{name}: events accepted after the restart")
    return {"fault": name, "killed": dict(zip(components, pids, strict=True)),
            "first_accept_after_kill_s": round(first_accept, 2), "held_s": round(held, 1),
            "events_accepted_while_down": during,
            "cases_indexed_while_down": indexed_cases(es_urls, alias) - indexed,
            "restart_until_ready_s": round(restart, 1)}


def queue_members(cluster: Cluster) -> dict[str, int]:
    """Quorum members of the work queues (3: one on each node)."""
    management = ManagementClient(cluster.env["PANTAU_AMQP_MANAGEMENT_URL"], "pantau")
    return {queue: len(management.queue_info(queue).get("members") or [])
            for queue in ("intake.ingress", "tracking.accepted", "publishing.cases")}


def replicas(es_urls: list[str], alias: str) -> str:
    settings = httpx.get(f"{es_urls[0]}/{alias}/_settings", timeout=10).json()
    return ",".join(str(s["settings"]["index"]["number_of_replicas"]) for s in settings.values())


def tracked(cluster: Cluster, cases: dict[str, Any]) -> int:
    """Events tracking holds for the run's cases (its timeline rows), from its database."""
    import psycopg2

    with psycopg2.connect(cluster.env["PANTAU_DATABASE_URL"], connect_timeout=10) as connection, \
            connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM case_history WHERE receipt_number = ANY(%s)",
                       (sorted(cases),))
        row = cursor.fetchone()
    connection.close()
    return int(row[0]) if row else 0
