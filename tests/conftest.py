"""Shared fixtures: the real local stack and service processes.

Servers come from ``infra/stack.sh`` (``make test`` starts them). A test that needs a server asks
for its fixture; when the server is not reachable the test FAILS — the suite decides this itself,
whoever calls it. Only an explicit ``PANTAU_TESTS_ALLOW_MISSING_SERVERS=1`` (a developer running
unit-adjacent tests without the stack) turns that into a skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
AMQP_URL = os.environ.get("PANTAU_AMQP_URL", "amqp://pantau:pantau@127.0.0.1:5672/pantau_test")
MGMT_URL = os.environ.get("PANTAU_AMQP_MANAGEMENT_URL", "http://pantau:pantau@127.0.0.1:15672")
ES_URL = os.environ.get("PANTAU_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
PG_URL = os.environ.get("PANTAU_TEST_DATABASE_URL",
                        "postgresql://pantau:pantau@127.0.0.1:5432/pantau_test")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port),
                                      timeout=1.0):
            return True
    except OSError:
        return False


def _require(name: str, url: str, port: int) -> str:
    if not _reachable(url, port):
        message = f"{name} is not reachable at {url}; start the stack with `infra/stack.sh up`"
        if os.environ.get("PANTAU_TESTS_ALLOW_MISSING_SERVERS") == "1":
            pytest.skip(message + " (PANTAU_TESTS_ALLOW_MISSING_SERVERS=1)")
        pytest.fail(message + " (a missing server is a failure; set "
                    "PANTAU_TESTS_ALLOW_MISSING_SERVERS=1 to skip instead)")
    return url


@pytest.fixture(scope="session")
def management_url() -> str:
    return _require("RabbitMQ management", MGMT_URL, 15672)


@pytest.fixture(scope="session")
def amqp_url(management_url: str) -> str:
    """The test vhost (``pantau_test``), with the declared topology applied (once a session)."""
    url = _require("RabbitMQ", AMQP_URL, 5672)
    from pantau_platform.settings import PantauSettings
    from pantau_platform.topology import apply

    apply(PantauSettings(amqp_url=url, amqp_management_url=management_url))
    return url


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    return _require("Elasticsearch", ES_URL, 9200)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _require("PostgreSQL", PG_URL, 5432)


@contextmanager
def fresh_schema(base_url: str, prefix: str = "t") -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema; dropped afterwards."""
    import sqlalchemy as sa

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base_url + ("&" if "?" in base_url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def database_urls(request: pytest.FixtureRequest, tmp_path: Path, name: str,
                  prefix: str) -> Iterator[str]:
    """Body of a fixture parametrised over ["sqlite", "postgresql"]."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_url"), prefix) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs on both SQLite and PostgreSQL (a fresh schema each time)."""
    yield from database_urls(request, tmp_path, "tracking", "t")


@dataclass(frozen=True)
class WorkQueues:
    work: str
    dead: str


@contextmanager
def work_queues(amqp_url: str, prefix: str, delivery_limit: int = 5) -> Iterator[WorkQueues]:
    """A quorum work queue dead-lettering (via pantau.dlx) into its own dead queue, like the
    topology's queues but private to one test; deleted afterwards."""
    from kombu import Connection, Queue

    from pantau_contracts.routing import DEAD_LETTER_EXCHANGE

    tag = uuid.uuid4().hex[:10]
    names = WorkQueues(f"{prefix}.{tag}.work", f"{prefix}.{tag}.dead")
    work = Queue(names.work, durable=True, queue_arguments={
        "x-queue-type": "quorum", "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-delivery-limit": delivery_limit})
    dead = Queue(names.dead, durable=True, queue_arguments={"x-queue-type": "quorum"})
    with Connection(amqp_url) as conn:
        channel = conn.channel()
        work(channel).declare()
        dead(channel).declare()
        channel.queue_bind(names.dead, DEAD_LETTER_EXCHANGE, routing_key=names.work)
    try:
        yield names
    finally:
        with Connection(amqp_url) as conn:
            channel = conn.channel()
            for name in (names.work, names.dead):
                channel.queue_delete(name)


def consumer_count(amqp_url: str, queue: str) -> int:
    """The queue's consumers right now (a passive declare answers from the queue itself; the
    management API's count lags by its statistics interval)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.consumer_count)
    finally:
        connection.close()


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05,
             message: str | Callable[[], str] = "condition") -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds.

    Tests wait on observable events (a row, a document, a message) with this — never ``sleep``.
    ``message`` may be a callable, evaluated only on failure, so that a process's log is read
    when the wait gives up rather than when it starts (then it is usually still empty).
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling; report the last error at the end
            last_error = exc
        time.sleep(interval)
    text = message() if callable(message) else message
    raise AssertionError(f"timed out after {timeout}s waiting for {text}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


def random_tag(length: int = 10) -> str:
    """A random upper-case hex tag for receipt numbers that never looks like a phone number or a
    NIK (the contract refuses such receipts, so a plain ``uuid4().hex`` fails a test now and then).
    """
    from pantau_contracts.text import looks_personal

    while True:
        tag = uuid.uuid4().hex[:length].upper()
        if looks_personal(tag) is None and looks_personal(f"X-{tag}") is None:
            return tag


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique, valid identifiers per test (receipt numbers etc.)."""
    def make(prefix: str = "T") -> str:
        return f"{prefix}-{random_tag()}"
    return make


class ServiceProcess:
    """A Pantau service started as a real subprocess (``python -m <module>``)."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.module = module
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", module], cwd=REPO,
                                     env={**os.environ, **env}, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start ``python -m module`` with extra env; stopped (by PID) at the end of the test."""
    started: list[ServiceProcess] = []

    def start(module: str, **env: str) -> ServiceProcess:
        base = {"PANTAU_AMQP_URL": AMQP_URL, "PANTAU_AMQP_MANAGEMENT_URL": MGMT_URL,
                "PANTAU_ELASTICSEARCH_URL": ES_URL, "PANTAU_STATE_DIR": str(tmp_path / "state")}
        process = ServiceProcess(module, {**base, **env},
                                 tmp_path / f"{module.replace('.', '_')}-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()
