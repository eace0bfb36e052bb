"""Two intake HTTP replicas (two in-process ``create_app``) sharing ONE database and the broker.

What a load balancer in front of several replicas must not break: a replayed signed request is
refused by the replica that did not see it first; a retry on the other replica is answered 202
without a second forward; an id reused with other content is 409 there too. Forwards are
counted on a temporary queue bound to ``pantau.accepted``. Runs on PostgreSQL (the production
setup) and on a shared SQLite file; the last test runs two real ``python -m pantau_intake.http``
processes on PostgreSQL and races them.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_contracts.signing import sign
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from tests.conftest import wait_for
from tests.integration.intake.helpers import TempQueue, dev
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


@pytest.fixture
def replicas(store_url: str, tmp_path: Path,
             amqp_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    def settings(name: str) -> IntakeSettings:
        return IntakeSettings(amqp_url=amqp_url, state_dir=tmp_path / name,
                              intake_database_url=store_url, intake_rate_per_second=0)

    with contextlib.redirect_stdout(None):
        assert credentials_main(["bootstrap-dev"], settings=settings("a")) == 0
    with TestClient(create_app(settings("a"))) as a, TestClient(create_app(settings("b"))) as b:
        yield a, b


@pytest.fixture
def accepted(amqp_url: str) -> Iterator[TempQueue]:
    queue = TempQueue(amqp_url, ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    yield queue
    queue.close()


def submitted(receipt: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/kota-bandung/dpmptsp",
            "type": "case.submitted", "time": datetime.now(UTC).isoformat(),
            "data": {"receipt_number": receipt or owned_receipt(),
                     "service_code": "pbg"}}


def signed(raw: bytes, content_type: str = STRUCTURED) -> dict[str, str]:
    creds = dev("kota-bandung/dpmptsp")
    return {**sign(creds.secret, raw, key_id=creds.key_id), "Content-Type": content_type}


def post(client: TestClient, raw: bytes, content_type: str = STRUCTURED) -> Any:
    return client.post("/v1/events", content=raw, headers=signed(raw, content_type))


def forwarded_ids(queue: TempQueue, barrier: TestClient) -> list[str]:
    """Every event id forwarded so far, in order. A fresh sentinel event is sent through
    ``barrier`` and awaited first: the replica's publisher confirms in order on one channel, so
    anything it forwarded earlier is in the queue by the time the sentinel is."""
    sentinel = submitted()
    assert post(barrier, json.dumps(sentinel).encode()).status_code == 202
    wait_for(lambda: any(p.message_id == sentinel["id"] for _m, p, _b in queue.drain()),
             message="the sentinel event on pantau.accepted")
    return [p.message_id for _m, p, _b in queue.drain() if p.message_id != sentinel["id"]]


def test_a_replay_on_the_other_replica_is_refused(
        replicas: tuple[TestClient, TestClient], accepted: TempQueue) -> None:
    a, b = replicas
    raw = json.dumps(submitted()).encode()
    headers = signed(raw)
    assert a.post("/v1/events", content=raw, headers=headers).status_code == 202
    replay = b.post("/v1/events", content=raw, headers=headers)  # same bytes, same signature
    assert replay.status_code == 409, replay.text
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert replay.json()["type"].endswith("/replayed-request")
    assert len(forwarded_ids(accepted, b)) == 1


def test_a_retry_on_the_other_replica_gets_202_without_a_second_forward(
        replicas: tuple[TestClient, TestClient], accepted: TempQueue) -> None:
    a, b = replicas
    event = submitted()
    raw = json.dumps(event).encode()
    first = post(a, raw)
    assert first.status_code == 202, first.text
    retry = post(b, raw)  # freshly signed: a legitimate retry, reaching the other replica
    assert retry.status_code == 202, retry.text
    assert retry.json() == first.json() == {"id": event["id"], "source": event["source"],
                                            "status": "accepted"}
    reformatted = json.dumps(event, indent=2).encode()  # same content, other JSON formatting
    assert post(b, reformatted).status_code == 202
    assert forwarded_ids(accepted, b) == [event["id"]]  # forwarded once, by replica a


def test_an_id_reused_with_other_content_is_a_conflict_on_the_other_replica(
        replicas: tuple[TestClient, TestClient], accepted: TempQueue) -> None:
    a, b = replicas
    event = submitted()
    assert post(a, json.dumps(event).encode()).status_code == 202
    changed = {**event, "data": {**event["data"], "kecamatan": "Coblong"}}
    conflict = post(b, json.dumps(changed).encode())
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["type"].endswith("/event-id-conflict")
    assert forwarded_ids(accepted, a) == [event["id"]]


def test_a_resent_batch_forwards_only_what_the_other_replica_did_not(
        replicas: tuple[TestClient, TestClient], accepted: TempQueue) -> None:
    a, b = replicas
    receipt = owned_receipt()
    first, second = submitted(receipt), submitted(receipt)
    second["type"], second["data"] = "case.stage_started", {"receipt_number": receipt,
                                                            "stage": "verifikasi-berkas"}
    assert post(a, json.dumps([first]).encode(), BATCH).status_code == 202
    response = post(b, json.dumps([first, second]).encode(), BATCH)
    assert response.status_code == 202, response.text
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]
    assert forwarded_ids(accepted, b) == [first["id"], second["id"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_real_processes_racing_the_same_request_accept_it_once(
        store_url: str, tmp_path: Path, amqp_url: str,
        start_service: Callable[..., Any], accepted: TempQueue) -> None:
    env = {"PANTAU_INTAKE_DATABASE_URL": store_url, "PANTAU_INTAKE_RATE_PER_SECOND": "0"}
    with contextlib.redirect_stdout(None):
        assert credentials_main(["bootstrap-dev"], settings=IntakeSettings(
            state_dir=tmp_path / "cli", intake_database_url=store_url)) == 0
    urls = []
    for name in ("a", "b"):
        port = free_port()
        start_service("pantau_intake.http", PANTAU_INTAKE_PORT=str(port),
                      PANTAU_STATE_DIR=str(tmp_path / name), **env)
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_for(lambda url=url: httpx.get(url + "/readyz", timeout=1).status_code == 200,
                 timeout=30, message=f"intake HTTP {url} ready")
    statuses: list[int] = []
    event_ids: list[str] = []
    for _ in range(5):  # five races: each time the same signed request hits both at once
        event = submitted()
        event_ids.append(event["id"])
        raw = json.dumps(event).encode()
        headers = signed(raw)
        barrier = threading.Barrier(2)

        def send(url: str, raw: bytes = raw, headers: dict[str, str] = headers,
                 barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            statuses.append(httpx.post(url + "/v1/events", content=raw, headers=headers,
                                       timeout=10).status_code)

        racers = [threading.Thread(target=send, args=(url,)) for url in urls]
        for t in racers:
            t.start()
        for t in racers:
            t.join()
        retry = httpx.post(urls[1] + "/v1/events", content=raw, headers=signed(raw), timeout=10)
        assert retry.status_code == 202, retry.text
    assert sorted(statuses) == [202] * 5 + [409] * 5
    for url in urls:  # a sentinel through each replica: everything earlier has arrived
        sentinel = submitted()
        raw = json.dumps(sentinel).encode()
        assert httpx.post(url + "/v1/events", content=raw, headers=signed(raw),
                          timeout=10).status_code == 202
        wait_for(lambda sid=sentinel["id"]: any(p.message_id == sid for _m, p, _b in
                                                 accepted.drain()), message="sentinel")
    forwarded = [p.message_id for _m, p, _b in accepted.drain()]
    assert [i for i in forwarded if i in event_ids] == event_ids  # each exactly once, in order
