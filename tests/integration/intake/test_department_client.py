"""Store-and-forward: with the broker unreachable the client spools; later it delivers all, in
order, once. The shared RabbitMQ is never stopped: the client is pointed at a closed port first."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from pantau_client.department import DepartmentClient
from pantau_contracts import make_event
from pantau_contracts.routing import INGRESS_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from tests.conftest import wait_for
from tests.integration.intake.helpers import TempQueue, department_url
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration
DPMPTSP = DepartmentRef("kota-bandung", "dpmptsp")


def closed_port_url(url: str) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@pytest.fixture(scope="module")
def real_url(amqp_url: str, management_url: str) -> str:
    assert credentials_main(["apply-amqp", "--dev"], settings=IntakeSettings(
        amqp_url=amqp_url, amqp_management_url=management_url)) == 0
    return department_url(amqp_url, "kota-bandung/dpmptsp")


@pytest.fixture
def ingress_copy(amqp_url: str) -> Iterator[TempQueue]:
    queue = TempQueue(amqp_url, INGRESS_EXCHANGE, "kota-bandung.dpmptsp.#")
    yield queue
    queue.close()


def case_events(n: int) -> list[Any]:
    receipt = owned_receipt(tag="SP")
    first = make_event(type="case.submitted", source="/kota-bandung/dpmptsp", sequence=1,
                       data={"receipt_number": receipt, "service_code": "pbg"},
                       time=datetime.now(UTC))
    rest = [make_event(type="case.stage_started", source="/kota-bandung/dpmptsp", sequence=i,
                       data={"receipt_number": receipt, "stage": "verifikasi-berkas"})
            for i in range(2, n + 1)]
    return [first, *rest]


def test_unreachable_broker_spools_then_delivers_in_order_once(
        real_url: str, tmp_path: Path, ingress_copy: TempQueue) -> None:
    spool = tmp_path / "spool.jsonl"
    events = case_events(5)
    ids = [e.get_id() for e in events]
    with DepartmentClient(closed_port_url(real_url), DPMPTSP, spool, connect_timeout=2) as down:
        assert [down.send(e) for e in events[:3]] == ["spooled"] * 3
    assert len(down.spool) == 3
    # the broker is back (the client now points at the real one): spool first, then new events
    with DepartmentClient(real_url, DPMPTSP, spool) as up:
        assert [up.send(e) for e in events[3:]] == ["sent", "sent"]
        assert len(up.spool) == 0
    wait_for(lambda: len([m for m in ingress_copy.drain() if m[1].message_id in ids]) >= 5,
             message="all five events on pantau.ingress")
    seen = [m[1].message_id for m in ingress_copy.drain() if m[1].message_id in ids]
    assert seen == ids  # in order, each exactly once
    users = {m[1].user_id for m in ingress_copy.drain() if m[1].message_id in ids}
    assert users == {"dept.kota-bandung.dpmptsp"}


def test_explicit_flush_after_outage(real_url: str, tmp_path: Path,
                                     ingress_copy: TempQueue) -> None:
    spool = tmp_path / "spool.jsonl"
    events = case_events(2)
    with DepartmentClient(closed_port_url(real_url), DPMPTSP, spool, connect_timeout=2) as down:
        for e in events:
            down.send(e)
        assert not down.flush_quietly()
    with DepartmentClient(real_url, DPMPTSP, spool) as up:
        assert up.flush() == 2
        assert up.flush() == 0
    ids = [e.get_id() for e in events]
    wait_for(lambda: [m[1].message_id for m in ingress_copy.drain()
                      if m[1].message_id in ids] == ids, message="both flushed events")
