"""The chaos matrix's system: the whole of Pantau as subprocesses (``tests.e2e.system``) on a
private vhost, unique aliases, and its own PostgreSQL database (tracking's and intake's schemas),
so the faults are seen by nothing else of the test suite. The stack's servers must be running —
a missing server FAILS here, it is never skipped — and must be the ones ``infra/stack.sh``
manages (the harness signals their PIDs and restarts them with it)."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from tests.chaos import stack
from tests.chaos.harness import ChaosRun
from tests.chaos.observe import Observer
from tests.conftest import AMQP_URL, ES_URL, MGMT_URL, PG_URL, REPO, _reachable
from tests.e2e.system import running_system

INTAKE_PORT, PORTAL_PORT = 18211, 18210
HEALTH_PORTS = {"PANTAU_TRACKING_HEALTH_PORT": "18213", "PANTAU_INDEXER_HEALTH_PORT": "18214",
                "PANTAU_INGRESS_HEALTH_PORT": "18215"}
# Small batches: many short transactions and bulk requests, so a fault lands among them.
PER_PROCESS_ENV = {"pantau_tracking": {"PANTAU_TRACKING_BATCH_SIZE": "20"},
                   "pantau_publishing.indexer": {"PANTAU_BATCH_SIZE": "20",
                                                 "PANTAU_BATCH_WAIT_MS": "50"}}
RUNS: list[ChaosRun] = []


def require_stack() -> None:
    """Every server reachable and run by ``infra/stack.sh`` — else the test FAILS."""
    for name, url, port in (("RabbitMQ", AMQP_URL, 5672), ("RabbitMQ management", MGMT_URL, 15672),
                            ("PostgreSQL", PG_URL, 5432), ("Elasticsearch", ES_URL, 9200)):
        if not _reachable(url, port):
            pytest.fail(f"{name} is not reachable at {url}; start the stack with "
                        f"`infra/stack.sh up` (the chaos matrix never skips a missing server)")
    for service, url in (("rabbitmq", AMQP_URL), ("postgres", PG_URL), ("elasticsearch", ES_URL)):
        problem = stack.same_server(service, url)
        if problem:
            pytest.fail(problem)


@contextmanager
def run_database(base_url: str, name: str) -> Iterator[tuple[str, str, str]]:
    """A PostgreSQL database of the run's own, with a schema for tracking and one for intake:
    (database URL, tracking URL, intake URL). Dropped afterwards, sessions and all (the
    connection-refusal fault terminates every other session of this database)."""
    admin = psycopg2.connect(base_url, connect_timeout=10)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = base_url.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg2.connect(url, connect_timeout=10) as connection, \
                connection.cursor() as cursor:
            cursor.execute("CREATE SCHEMA tracking; CREATE SCHEMA intake")
        connection.close()
        yield (url, f"{url}?options=-csearch_path%3Dtracking",
               f"{url}?options=-csearch_path%3Dintake")
    finally:
        admin = psycopg2.connect(base_url, connect_timeout=10)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def report_path() -> Path:
    state = Path(os.environ.get("PANTAU_STATE_DIR") or REPO / ".state")
    return state / "chaos" / f"matrix-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"


def restore_stack() -> None:
    """Whatever happened in a row, leave every server running."""
    for service in stack.SERVICES:
        if stack.status(service) is None:
            stack.up(service)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosRun]:
    require_stack()
    # the department's AMQP client logs every refused connection at ERROR: expected here
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    run = uuid.uuid4().hex[:6].upper()
    with run_database(PG_URL, f"chaos_{run.lower()}") as urls, \
            pytest.MonkeyPatch.context() as env:
        database_url, tracking_url, intake_url = urls
        env.setenv("PANTAU_DATABASE_URL", tracking_url)
        env.setenv("PANTAU_INTAKE_DATABASE_URL", intake_url)
        for key, value in HEALTH_PORTS.items():
            env.setenv(key, value)
        state = tmp_path_factory.mktemp("chaos-state")
        try:
            with running_system(AMQP_URL, state, name="chaos", intake_port=INTAKE_PORT,
                                portal_port=PORTAL_PORT,
                                per_process_env=PER_PROCESS_ENV) as system:
                observer = Observer(system.env)
                chaos_run = ChaosRun(system, observer, database_url, run, report_path())
                RUNS.append(chaos_run)
                try:
                    yield chaos_run
                finally:
                    observer.close()
                    restore_stack()
        finally:
            restore_stack()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The matrix as JSON on stdout (and where its file is)."""
    for chaos_run in RUNS:
        if not chaos_run.rows:
            continue
        terminalreporter.section("chaos matrix")
        rows = [{k: row.get(k) for k in ("fault", "duration_s", "events", "converge_s",
                                         "dead_letters", "ok")} for row in chaos_run.rows]
        terminalreporter.write_line("[" + ",\n ".join(json.dumps(r) for r in rows) + "]")
        terminalreporter.write_line(f"(every row in full: {chaos_run.report_path})")
