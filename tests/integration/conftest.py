"""Integration fixtures: no test consumes another test's leftovers from the shared queues.

The integration tests share one vhost (``pantau_test``) and its topology's queues
(``intake.ingress`` and the departments' ``intake.ingress.<j>.<d>``, ``tracking.accepted``,
``publishing.cases``, ``pantau.dead-letter``, ``feedback.<j>.<d>``). Many tests publish into them
without consuming (intake forwards to ``pantau.accepted`` whether or not a tracking runs), and a
real process started on the default queue would consume whatever earlier tests left there — a
count of "one dedup record" then counts someone else's messages. So tests that start a consumer
give it its own queues (``tests.conftest.work_queues``) or, where the real routing is the point
(intake's AMQP ingress), rely on this guard:

* ``shared_queues_guard`` (autouse, for tests that use the broker): before the test, every
  message ready in a shared queue is a leftover: it is purged, so the test cannot consume it,
  and reported; after the test (its processes stopped), what the test left is purged and
  reported under its name.
* The report is the section "leftovers in shared queues" at the end of the run: which test left
  how many messages in which queue. It is information, not a failure: publishing into shared
  queues nobody consumes in a test is normal; consuming them is what must not happen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, unquote, urlsplit

import httpx
import pika
import pytest

from tests.conftest import MGMT_URL, REPO

TOPOLOGY_QUEUES = frozenset(q["name"] for q in json.loads(
    (REPO / "infra" / "rabbitmq" / "topology.json").read_text())["queues"])
SHARED_PREFIXES = ("intake.ingress.", "feedback.")
BROKER_FIXTURES = frozenset({"amqp_url", "start_service"})
LEFTOVERS: list[str] = []


def shared_queue_names(amqp_url: str) -> list[str]:
    vhost = unquote(urlsplit(amqp_url).path.lstrip("/")) or "/"
    parts = urlsplit(MGMT_URL)
    response = httpx.get(f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api/queues/"
                         f"{quote(vhost, safe='')}", params={"columns": "name"},
                         auth=(unquote(parts.username or "guest"),
                               unquote(parts.password or "guest")), timeout=10)
    response.raise_for_status()
    return sorted(q["name"] for q in response.json()
                  if q["name"] in TOPOLOGY_QUEUES or q["name"].startswith(SHARED_PREFIXES))


def sweep(amqp_url: str) -> dict[str, int]:
    """Purge every ready message of the shared queues; ``{queue: messages purged}``."""
    purged: dict[str, int] = {}
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for name in shared_queue_names(amqp_url):
            ready = channel.queue_declare(name, passive=True).method.message_count
            if ready:
                count = channel.queue_purge(name).method.message_count
                purged[name] = max(ready, count)
    finally:
        connection.close()
    return purged


def _report(when: str, test: str, purged: dict[str, int]) -> None:
    if purged:
        found = ", ".join(f"{n} in {q}" for q, n in sorted(purged.items()))
        LEFTOVERS.append(f"{when} {test}: {found} (purged)")


@pytest.fixture(autouse=True)
def shared_queues_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    if not BROKER_FIXTURES & set(request.fixturenames):
        yield
        return
    amqp_url = request.getfixturevalue("amqp_url")
    _report("before", request.node.nodeid, sweep(amqp_url))
    yield
    _report("left by", request.node.nodeid, sweep(amqp_url))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if LEFTOVERS:
        terminalreporter.section("leftovers in shared queues (tests/integration/conftest.py)")
        for line in LEFTOVERS:
            terminalreporter.write_line(line)
