"""One department flooding the AMQP path does not hold up another (issue 14, item 5).

On the real broker, in a vhost of its own whose ingress queues hold at most ``LIMIT`` messages:
the flooder's own queue fills, the broker nacks its further publishes (``reject-publish``) and
its client spools them; the well-behaved department's events are still confirmed, and the
ingress — running as its own RabbitMQ identity, ``pantau-intake`` — accepts them. Once the
ingress has drained the flooder's queue, its spool is delivered and accepted too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pantau_client.department import DepartmentClient
from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_intake.credentials.amqp_users import apply_department_user
from pantau_intake.domain.departments import DepartmentRef
from pantau_platform.identities import identity_url
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import ManagementClient, apply
from tests.conftest import MGMT_URL, wait_for
from tests.integration.intake.helpers import TempQueue, department_url, dev
from tests.integration.intake.test_amqp_ingress import submitted

pytestmark = pytest.mark.integration
LIMIT = 20
FLOODER = DepartmentRef("kota-bandung", "dpmptsp")
CALM = DepartmentRef("kota-bandung", "dinkes")


@pytest.fixture
def vhost_url(amqp_url: str) -> Iterator[str]:
    url = f"{amqp_url.rsplit('/', 1)[0]}/pantau_flood_{uuid.uuid4().hex[:8]}"
    apply(PantauSettings(amqp_url=url, amqp_management_url=MGMT_URL,
                         ingress_queue_max_length=LIMIT), service_users=True)
    client = ManagementClient(MGMT_URL, url.rsplit("/", 1)[1])
    for department in (FLOODER, CALM):
        apply_department_user(client, department, dev(str(department)).amqp_password,
                              max_length=LIMIT)
    yield url
    client.delete_vhost()


def client_of(vhost_url: str, department: DepartmentRef, tmp_path: Path) -> DepartmentClient:
    return DepartmentClient(department_url(vhost_url, str(department)), department,
                            tmp_path / f"{department.department}.spool.jsonl")


def accepted_ids(queue: TempQueue) -> set[str]:
    """Every message id forwarded so far (``drain`` keeps what it read)."""
    return {properties.message_id for _m, properties, _b in queue.drain()}


def test_a_flooding_department_is_nacked_and_the_others_still_flow(
        vhost_url: str, tmp_path: Path, start_service: Callable[..., Any]) -> None:
    accepted = TempQueue(vhost_url, ACCEPTED_EXCHANGE, "kota-bandung.#")
    flooder, calm = client_of(vhost_url, FLOODER, tmp_path), client_of(vhost_url, CALM, tmp_path)
    try:
        # the ingress is not running yet: the flooder's queue fills up to its limit
        flood = [submitted() for _ in range(LIMIT + 10)]
        outcomes = [flooder.send(event) for event in flood]
        assert outcomes.count("sent") >= LIMIT and "spooled" in outcomes, outcomes
        assert flooder.spool.pending(), "the nacked events wait in the flooder's spool"

        calm_events = [submitted("/kota-bandung/dinkes", "slhs") for _ in range(3)]
        assert [calm.send(event) for event in calm_events] == ["sent"] * 3

        ingress = start_service(
            "pantau_intake.ingress", PANTAU_AMQP_URL=vhost_url,
            PANTAU_INTAKE_AMQP_URL=identity_url(vhost_url, "pantau-intake"),
            PANTAU_INGRESS_HEALTH_PORT="0")
        calm_ids = {event["id"] for event in calm_events}
        wait_for(lambda: calm_ids <= accepted_ids(accepted), timeout=60,
            message="the well-behaved department's events accepted\n" + ingress.log()[-3000:])

        # the flooder's queue drains; its spool is delivered and accepted in turn
        wait_for(flooder.flush_quietly, timeout=60, message="the flooder's spool delivered")
        flood_ids = {event["id"] for event in flood}
        wait_for(lambda: flood_ids <= accepted_ids(accepted),
                 timeout=60, message="every flooded event accepted\n" + ingress.log()[-3000:])
    finally:
        flooder.close()
        calm.close()
        accepted.close()
