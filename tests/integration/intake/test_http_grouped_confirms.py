"""Concurrent HTTP requests share the broker's confirms (``GroupedPublisher``), and a 202 still
means "confirmed": the real app (TestClient, many threads) on the real broker.

The shared RabbitMQ is never stopped: intake talks to it through a TCP proxy owned by the test.
Holding the proxy's replies holds the broker's confirms (the messages are in the queue, the
confirms are not back yet); closing the proxy is "the broker went away mid-flight".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient

from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_contracts.signing import sign
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from tests.conftest import wait_for
from tests.integration.intake.helpers import OutageProxy, TempQueue, dev
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration
CONCURRENT = 24


@pytest.fixture
def proxied(amqp_url: str, management_url: str,
            tmp_path: Path) -> Iterator[tuple[TestClient, OutageProxy]]:
    real = urlsplit(amqp_url)
    proxy = OutageProxy((real.hostname or "127.0.0.1", real.port or 5672))
    userinfo = real.netloc.rsplit("@", 1)[0]
    url = urlunsplit((real.scheme, f"{userinfo}@127.0.0.1:{proxy.port}", real.path, "", ""))
    settings = IntakeSettings(amqp_url=url, amqp_management_url=management_url,
                              state_dir=tmp_path, intake_rate_per_second=0)
    assert credentials_main(["bootstrap-dev"], settings=settings) == 0
    try:
        with TestClient(create_app(settings)) as client:
            yield client, proxy
    finally:
        proxy.outage()


@pytest.fixture
def watch(amqp_url: str) -> Iterator[TempQueue]:
    queue = TempQueue(amqp_url, ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    yield queue
    queue.close()


def event() -> bytes:
    return json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/kota-bandung/dpmptsp",
        "type": "case.submitted", "time": datetime.now(UTC).isoformat(),
        "data": {"receipt_number": owned_receipt(tag="GRP"), "service_code": "pbg"}}).encode()


def post(client: TestClient, raw: bytes) -> Any:
    creds = dev("kota-bandung/dpmptsp")
    return client.post("/v1/events", content=raw, headers={
        **sign(creds.secret, raw, key_id=creds.key_id),
        "Content-Type": "application/cloudevents+json"})


def ids_in(watch: TempQueue) -> list[str]:
    return [m[1].message_id for m in watch.drain()]


def send_all(client: TestClient, bodies: list[bytes]) -> list[Future[Any]]:
    pool = ThreadPoolExecutor(len(bodies))
    futures = [pool.submit(post, client, body) for body in bodies]
    pool.shutdown(wait=False)
    return futures


def test_concurrent_requests_are_answered_only_after_their_confirms(
        proxied: tuple[TestClient, OutageProxy], watch: TempQueue) -> None:
    client, proxy = proxied
    assert post(client, event()).status_code == 202  # the publisher's connection is open
    bodies = [event() for _ in range(CONCURRENT)]
    ids = [json.loads(b)["id"] for b in bodies]
    proxy.hold_replies()  # the broker's confirms do not come back
    futures = send_all(client, bodies)
    wait_for(lambda: set(ids) & set(ids_in(watch)), message="a first group in the queue")
    assert not any(f.done() for f in futures)  # in the queue, but not confirmed: no answer yet
    proxy.release_replies()
    answers = [f.result(timeout=60) for f in futures]
    assert [a.status_code for a in answers] == [202] * CONCURRENT
    wait_for(lambda: set(ids) <= set(ids_in(watch)), message="every event in the queue")
    forwarded = [i for i in ids_in(watch) if i in ids]
    assert sorted(forwarded) == sorted(ids)  # each once: grouping duplicates nothing


def test_a_broker_lost_mid_flight_answers_503_never_a_false_202(
        proxied: tuple[TestClient, OutageProxy], watch: TempQueue) -> None:
    client, proxy = proxied
    assert post(client, event()).status_code == 202
    bodies = [event() for _ in range(CONCURRENT)]
    ids = {json.loads(b)["id"] for b in bodies}
    proxy.hold_replies()
    futures = send_all(client, bodies)
    wait_for(lambda: ids & set(ids_in(watch)), message="a first group published")
    proxy.outage()  # the broker goes away before confirming anything of theirs
    answers = [f.result(timeout=90) for f in futures]
    assert [a.status_code for a in answers] == [503] * CONCURRENT
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    proxy.restore()  # the broker is back: the next request gets a fresh connection
    assert post(client, event()).status_code == 202
