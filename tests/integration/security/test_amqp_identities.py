"""Each RabbitMQ identity can do what its process needs and nothing else (issue 14, item 4).

On the real broker, in a vhost of its own with the topology, the service users
(``--service-users``) and two department users (``apply-amqp``) applied: a refused operation is
the broker's channel error 403 ACCESS_REFUSED, never a check of ours.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, ProbableAuthenticationError

from pantau_contracts.routing import (
    ACCEPTED_EXCHANGE,
    CASES_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    FEEDBACK_EXCHANGE,
    INGRESS_EXCHANGE,
    INTAKE_OUTCOMES_QUEUE,
    PUBLISHING_QUEUE,
    TRACKING_QUEUE,
    department_ingress_queue,
    feedback_queue,
)
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.credentials.amqp_users import apply_department_user
from pantau_platform.identities import identity_url, load_identities
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import ManagementClient, apply
from tests.conftest import MGMT_URL

DPMPTSP = "kota-bandung/dpmptsp"
DINKES = "kota-bandung/dinkes"


@pytest.fixture(scope="module")
def vhost_url(amqp_url: str) -> Iterator[str]:
    url = f"{amqp_url.rsplit('/', 1)[0]}/pantau_identities_{uuid.uuid4().hex[:8]}"
    apply(PantauSettings(amqp_url=url, amqp_management_url=MGMT_URL), service_users=True)
    client = ManagementClient(MGMT_URL, url.rsplit("/", 1)[1])
    for name in (DPMPTSP, DINKES):
        dev = dev_department(name)
        apply_department_user(client, dev.department, dev.amqp_password)
    yield url
    client.delete_vhost()


def as_user(vhost_url: str, user: str) -> Any:
    password = None
    if user.startswith("dept."):
        _, jurisdiction, department = user.split(".")
        password = dev_department(f"{jurisdiction}/{department}").amqp_password
    params = pika.URLParameters(identity_url(vhost_url, user, password))
    params.connection_attempts = 1
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.confirm_delivery()
    return connection, channel


def allowed(vhost_url: str, user: str, action: Callable[[Any], object]) -> bool:
    """True if the broker let ``user`` do ``action(channel)``; False on 403 ACCESS_REFUSED."""
    connection, channel = as_user(vhost_url, user)
    try:
        action(channel)
        return True
    except ChannelClosedByBroker as exc:
        assert exc.reply_code == 403, exc
        return False
    finally:
        if connection.is_open:
            connection.close()


def publish(exchange: str, key: str = "x.y.z") -> Callable[[Any], object]:
    return lambda ch: ch.basic_publish(exchange, key, b"{}",
                                       pika.BasicProperties(delivery_mode=2))


def consume(queue: str) -> Callable[[Any], object]:
    return lambda ch: ch.basic_consume(queue, lambda *_: None)


def declare_queue(name: str) -> Callable[[Any], object]:
    return lambda ch: ch.queue_declare(name, durable=True)


def nameko_rpc(service: str) -> Callable[[Any], object]:
    """What nameko's RPC entrypoint does at start: declare ``nameko-rpc`` and ``rpc-<service>``,
    bind and consume it; and what its responder does: publish to ``nameko-rpc``."""
    def run(ch: Any) -> None:
        ch.exchange_declare("nameko-rpc", "topic", durable=True)
        ch.queue_declare(f"rpc-{service}", durable=True)
        ch.queue_bind(f"rpc-{service}", "nameko-rpc", f"{service}.*")
        ch.basic_consume(f"rpc-{service}", lambda *_: None)
        ch.basic_publish("nameko-rpc", "rpc.reply-standalone_rpc_proxy-x", b"{}")
    return run


def test_the_identity_table_names_the_services_and_no_portal() -> None:
    assert set(load_identities()) == {"pantau-intake", "pantau-tracking", "pantau-indexer",
                                      "pantau-mailer"}


def test_intake_forwards_rejects_and_consumes_ingress_and_outcomes_only(vhost_url: str) -> None:
    user = "pantau-intake"
    for exchange in (ACCEPTED_EXCHANGE, FEEDBACK_EXCHANGE, DEAD_LETTER_EXCHANGE):
        assert allowed(vhost_url, user, publish(exchange)), exchange
    assert allowed(vhost_url, user, consume("intake.ingress"))
    assert allowed(vhost_url, user, consume(INTAKE_OUTCOMES_QUEUE))  # the outcomes process
    assert allowed(vhost_url, user, consume(department_ingress_queue("kota-bandung", "dinkes")))
    assert not allowed(vhost_url, user, publish(CASES_EXCHANGE))
    assert not allowed(vhost_url, user, publish(INGRESS_EXCHANGE, "kota-bandung.dinkes.x"))
    assert not allowed(vhost_url, user, consume(TRACKING_QUEUE))
    assert not allowed(vhost_url, user, declare_queue("intake.mine"))


def test_tracking_consumes_accepted_and_publishes_cases_and_feedback(vhost_url: str) -> None:
    user = "pantau-tracking"
    assert allowed(vhost_url, user, consume(TRACKING_QUEUE))
    for exchange in (CASES_EXCHANGE, FEEDBACK_EXCHANGE, DEAD_LETTER_EXCHANGE):
        assert allowed(vhost_url, user, publish(exchange)), exchange
    assert allowed(vhost_url, user, nameko_rpc("tracking"))
    assert not allowed(vhost_url, user, nameko_rpc("intake"))  # another service's RPC queue
    assert not allowed(vhost_url, user, publish(ACCEPTED_EXCHANGE))
    assert not allowed(vhost_url, user, consume(PUBLISHING_QUEUE))
    assert not allowed(vhost_url, user, consume("intake.ingress"))
    assert not allowed(vhost_url, user, consume(INTAKE_OUTCOMES_QUEUE))


def test_the_indexer_reads_publishing_cases_and_nothing_else(vhost_url: str) -> None:
    user = "pantau-indexer"
    assert allowed(vhost_url, user, consume(PUBLISHING_QUEUE))
    assert allowed(vhost_url, user, publish(DEAD_LETTER_EXCHANGE))  # its poison, with reasons
    assert not allowed(vhost_url, user, publish(ACCEPTED_EXCHANGE))
    assert not allowed(vhost_url, user, publish(CASES_EXCHANGE))
    assert not allowed(vhost_url, user, consume(TRACKING_QUEUE))
    assert not allowed(vhost_url, user, consume(INTAKE_OUTCOMES_QUEUE))
    assert not allowed(vhost_url, user, declare_queue("publishing.mine"))


def test_the_mailer_reads_publishing_follow_and_nothing_else(vhost_url: str) -> None:
    user = "pantau-mailer"
    assert allowed(vhost_url, user, consume("publishing.follow"))
    assert allowed(vhost_url, user, publish(DEAD_LETTER_EXCHANGE))  # its poison, with reasons
    assert not allowed(vhost_url, user, consume(PUBLISHING_QUEUE))
    assert not allowed(vhost_url, user, consume(TRACKING_QUEUE))
    assert not allowed(vhost_url, user, publish(CASES_EXCHANGE))
    assert not allowed(vhost_url, user, publish(ACCEPTED_EXCHANGE))
    assert not allowed(vhost_url, user, declare_queue("publishing.mine"))


def test_a_department_writes_its_own_keys_to_ingress_and_reads_its_feedback(
        vhost_url: str) -> None:
    user = "dept.kota-bandung.dpmptsp"
    assert allowed(vhost_url, user, publish(INGRESS_EXCHANGE, "kota-bandung.dpmptsp.case.x"))
    assert allowed(vhost_url, user, consume(feedback_queue("kota-bandung", "dpmptsp")))
    assert not allowed(vhost_url, user, publish(INGRESS_EXCHANGE, "kota-bandung.dinkes.case.x"))
    assert not allowed(vhost_url, user, publish(ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.x"))
    assert not allowed(vhost_url, user, consume(TRACKING_QUEUE))
    assert not allowed(vhost_url, user, consume(feedback_queue("kota-bandung", "dinkes")))
    assert not allowed(vhost_url, user, consume(INTAKE_OUTCOMES_QUEUE))  # others' outcomes
    assert not allowed(vhost_url, user,
                       consume(department_ingress_queue("kota-bandung", "dpmptsp")))
    assert not allowed(vhost_url, user, declare_queue("feedback.mine"))


def test_a_department_has_connection_and_channel_limits(vhost_url: str) -> None:
    client = ManagementClient(MGMT_URL, vhost_url.rsplit("/", 1)[1])
    response = client._client.get("/user-limits/dept.kota-bandung.dinkes")
    response.raise_for_status()
    (limits,) = response.json()
    assert limits["value"] == {"max-connections": 10, "max-channels": 50}


def test_the_portal_has_no_amqp_identity(vhost_url: str) -> None:
    params = pika.URLParameters(identity_url(vhost_url, "pantau-portal"))
    params.connection_attempts = 1
    with pytest.raises(ProbableAuthenticationError):
        pika.BlockingConnection(params)
