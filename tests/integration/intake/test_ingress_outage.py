"""The AMQP ingress (a real subprocess) while its database is unreachable.

Intake's database (the accepted-events memory every message is checked against) sits behind a
TCP proxy owned by the test; "the database goes down" means closing the proxy and every
connection through it. However long the outage, the message is held — never requeued, never
dead-lettered, readiness says "waiting for database" — and forwarded once the database is back.
An invalid event is still dead-lettered at once, with its reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from pantau_client.department import DepartmentClient
from pantau_contracts.routing import ACCEPTED_EXCHANGE, DEAD_LETTER_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from tests.conftest import fresh_schema, wait_for
from tests.integration.intake.helpers import OutageProxy, TempQueue, department_url
from tests.integration.intake.helpers import receipt as owned_receipt
from tests.integration.publishing.conftest import free_port

pytestmark = pytest.mark.integration
KEY = "kota-bandung.dpmptsp.case.submitted"
DELIVERY_LIMIT = 2  # an unknown failure would be dead-lettered at the second delivery


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
def dpmptsp(amqp_url: str, management_url: str,
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


def readiness(port: int) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    return response.status_code, response.json()


def degraded_for(port: int, seconds: float) -> bool:
    """The ingress has reported "waiting for database" for at least ``seconds``."""
    code, body = readiness(port)
    if code != 503 or body.get("detail") != "waiting for database":
        return False
    since = datetime.fromisoformat(body["since"].replace("Z", "+00:00"))
    return (datetime.now(UTC) - since).total_seconds() >= seconds


def test_a_database_outage_holds_the_message_and_never_dead_letters_it(
        start_service: Callable[..., Any], proxied_database: tuple[str, OutageProxy],
        dpmptsp: DepartmentClient, amqp_url: str) -> None:
    database_url, proxy = proxied_database
    accepted = TempQueue(amqp_url, ACCEPTED_EXCHANGE, KEY)
    dead = TempQueue(amqp_url, DEAD_LETTER_EXCHANGE, "kota-bandung.dpmptsp.#")
    health = free_port()
    try:
        ingress = start_service("pantau_intake.ingress", PANTAU_INTAKE_DATABASE_URL=database_url,
                                PANTAU_INTAKE_INGRESS_DELIVERY_LIMIT=str(DELIVERY_LIMIT),
                                PANTAU_INGRESS_HEALTH_PORT=str(health))
        wait_for(lambda: "consuming intake.ingress" in ingress.log(), timeout=30,
                 message="the ingress consuming (its database reachable at start)")
        assert readiness(health)[0] == 200

        # an outage far longer than the old requeue path survived (3 deliveries, ~2 s)
        proxy.outage()
        held = submitted()
        assert dpmptsp.send(held) == "sent"
        wait_for(lambda: degraded_for(health, 4.0), timeout=30,
                 message="readyz: waiting for database\n" + ingress.log()[-3000:])
        assert not with_id(dead, held["id"]) and not with_id(accepted, held["id"])
        proxy.restore()
        wait_for(lambda: with_id(accepted, held["id"]), timeout=30,
                 message="the event forwarded after the database came back")
        wait_for(lambda: readiness(health)[0] == 200, timeout=15, message="ready again")
        assert len(with_id(accepted, held["id"])) == 1
        assert not with_id(dead, held["id"])

        # the database back: the ingress carries on, and an invalid event is still poison
        after = submitted()
        assert dpmptsp.send(after) == "sent"
        wait_for(lambda: with_id(accepted, after["id"]), timeout=30,
                 message="a later event forwarded")
        invalid = submitted()  # valid, but a receipt number another department owns
        invalid["data"]["receipt_number"] = owned_receipt("kota-bandung/disdukcapil", tag="OUT")
        assert dpmptsp.send(invalid) == "sent"
        (_method, properties, _body), = wait_for(  # type: ignore[misc]
            lambda: with_id(dead, invalid["id"]), timeout=30, message="the refused dead letter")
        assert json.loads(properties.headers["x-pantau-reason"])["reason"] == "forbidden"
        log = ingress.log()
        assert "database unavailable" in log and "database is back" in log
        assert "handler-failed" not in log
    finally:
        accepted.close()
        dead.close()
