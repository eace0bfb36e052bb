"""The AMQP ingress (a real subprocess) while its database is unreachable.

Intake's database (the accepted-events memory every message is checked against) sits behind a
TCP proxy owned by the test; "the database goes down" means closing the proxy and every
connection through it. A short outage: the message is retried after a back-off and processed once
the database is back. A long one: on its last allowed delivery the message is dead-lettered by
the ingress itself WITH ``x-pantau-reason: handler-failed`` — never by the broker without one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from pantau_contracts.routing import ACCEPTED_EXCHANGE, DEAD_LETTER_EXCHANGE
from pantau_intake.client.department import DepartmentClient
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from tests.conftest import fresh_schema, wait_for
from tests.integration.intake.helpers import OutageProxy, TempQueue, department_url
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration
KEY = "kota-bandung.dpmptsp.case.submitted"
DELIVERY_LIMIT = 3  # lower than the queue's 5: the ingress must give up (with a reason) first


@pytest.fixture
def proxied_database(postgres_url: str) -> Iterator[tuple[str, OutageProxy]]:
    with fresh_schema(postgres_url, "i") as url:
        real = urlsplit(url)
        proxy = OutageProxy((real.hostname or "127.0.0.1", real.port or 5432))
        userinfo = real.netloc.rsplit("@", 1)[0]
        try:
            yield urlunsplit((real.scheme, f"{userinfo}@127.0.0.1:{proxy.port}", real.path,
                              real.query, "")), proxy
        finally:
            proxy.outage()


@pytest.fixture
def dpmptsp(amqp_url: str, management_url: str, topology: None,
            tmp_path: Path) -> Iterator[DepartmentClient]:
    assert credentials_main(["apply-amqp", "--dev"], settings=IntakeSettings(
        amqp_url=amqp_url, amqp_management_url=management_url)) == 0
    client = DepartmentClient(department_url(amqp_url, "kota-bandung/dpmptsp"),
                              DepartmentRef("kota-bandung", "dpmptsp"), tmp_path / "spool.jsonl")
    yield client
    client.close()


def submitted() -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/kota-bandung/dpmptsp",
            "type": "case.submitted", "time": datetime.now(UTC).isoformat(),
            "data": {"receipt_number": owned_receipt(tag="OUT"),
                     "service_code": "pbg"}}


def with_id(queue: TempQueue, event_id: str) -> list[tuple[Any, Any, bytes]]:
    return [m for m in queue.drain() if m[1].message_id == event_id]


def test_database_outage_is_ridden_out_or_dead_lettered_with_a_reason(
        start_service: Callable[..., Any], proxied_database: tuple[str, OutageProxy],
        dpmptsp: DepartmentClient, amqp_url: str) -> None:
    database_url, proxy = proxied_database
    accepted = TempQueue(amqp_url, ACCEPTED_EXCHANGE, KEY)
    dead = TempQueue(amqp_url, DEAD_LETTER_EXCHANGE, "kota-bandung.dpmptsp.#")
    try:
        ingress = start_service("pantau_intake.ingress", PANTAU_INTAKE_DATABASE_URL=database_url,
                                PANTAU_INTAKE_INGRESS_DELIVERY_LIMIT=str(DELIVERY_LIMIT))
        wait_for(lambda: "consuming intake.ingress" in ingress.log(), timeout=30,
                 message="the ingress consuming (its database reachable at start)")

        # a short outage: retried after a back-off, processed once the database is back
        proxy.outage()
        short = submitted()
        assert dpmptsp.send(short) == "sent"
        wait_for(lambda: "failed (StoreUnavailable" in ingress.log(), timeout=30,
                 message="a failed attempt while the database is down")
        proxy.restore()
        wait_for(lambda: with_id(accepted, short["id"]), timeout=30,
                 message="the event forwarded after the database came back")
        assert not with_id(dead, short["id"])

        # a long outage: dead-lettered by the ingress, with the reason, at the delivery limit
        proxy.outage()
        long = submitted()
        assert dpmptsp.send(long) == "sent"
        wait_for(lambda: with_id(dead, long["id"]), timeout=60,
                 message="the dead letter after the last allowed delivery")
        (_method, properties, body), = with_id(dead, long["id"])
        reason = json.loads(properties.headers["x-pantau-reason"])
        assert reason["reason"] == "handler-failed"
        assert "StoreUnavailable" in reason["detail"]
        assert reason["deliveries"] == DELIVERY_LIMIT + 1
        assert properties.headers["x-pantau-origin-routing-key"] == KEY
        assert properties.headers["x-pantau-dead-lettered-by"] == "intake_ingress"
        assert json.loads(body) == long
        assert not with_id(accepted, long["id"])

        # the database back: the ingress carries on (and the outage is over for good)
        proxy.restore()
        after = submitted()
        assert dpmptsp.send(after) == "sent"
        wait_for(lambda: with_id(accepted, after["id"]), timeout=30,
                 message="a later event forwarded")
        # never a reasonless (broker) dead letter of ours
        assert all("x-pantau-reason" in (p.headers or {}) for _m, p, _b in dead.drain()
                   if p.message_id in {short["id"], long["id"], after["id"]})
    finally:
        accepted.close()
        dead.close()
