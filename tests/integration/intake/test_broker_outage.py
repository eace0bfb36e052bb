"""A broker outage seen by ONE long-lived department client: the connection drops mid-stream, the
client spools, and when the broker is reachable again the same client delivers everything, in
order, exactly once.

The shared RabbitMQ is never stopped: the client talks to it through a TCP proxy owned by the
test, and "stopping the broker" means closing the proxy and every connection through it — to the
client that is indistinguishable from the broker going away.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from pantau_client.department import DepartmentClient
from pantau_contracts import make_event
from pantau_contracts.routing import INGRESS_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from tests.conftest import wait_for
from tests.integration.intake.helpers import OutageProxy, TempQueue, department_url
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration


@pytest.fixture
def proxied_url(amqp_url: str, management_url: str) -> Iterator[tuple[str, OutageProxy]]:
    assert credentials_main(["apply-amqp", "--dev"], settings=IntakeSettings(
        amqp_url=amqp_url, amqp_management_url=management_url)) == 0
    real = urlsplit(department_url(amqp_url, "kota-bandung/dpmptsp"))
    proxy = OutageProxy((real.hostname or "127.0.0.1", real.port or 5672))
    userinfo = real.netloc.rsplit("@", 1)[0]
    yield urlunsplit((real.scheme, f"{userinfo}@127.0.0.1:{proxy.port}", real.path, "", "")), proxy
    proxy.outage()


def test_one_client_rides_out_a_broker_outage(proxied_url: tuple[str, OutageProxy],
                                              amqp_url: str, tmp_path: Path) -> None:
    url, proxy = proxied_url
    receipt = owned_receipt(tag="OUT")
    events = [make_event(type="case.submitted", source="/kota-bandung/dpmptsp", sequence=1,
                         time=datetime.now(UTC),
                         data={"receipt_number": receipt, "service_code": "pbg"})]
    events += [make_event(type="case.stage_started", source="/kota-bandung/dpmptsp", sequence=i,
                          data={"receipt_number": receipt, "stage": "verifikasi-berkas"})
               for i in range(2, 9)]
    ids = [e.get_id() for e in events]
    watch = TempQueue(amqp_url, INGRESS_EXCHANGE, "kota-bandung.dpmptsp.#")
    client = DepartmentClient(url, DepartmentRef("kota-bandung", "dpmptsp"),
                              tmp_path / "spool.jsonl", connect_timeout=2)
    try:
        assert [client.send(e) for e in events[:3]] == ["sent"] * 3
        proxy.outage()  # the broker goes away under an open connection
        assert [client.send(e) for e in events[3:6]] == ["spooled"] * 3
        assert len(client.spool) == 3
        proxy.restore()  # ... and comes back: the same client drains the spool first
        assert [client.send(e) for e in events[6:]] == ["sent", "sent"]
        assert len(client.spool) == 0
    finally:
        client.close()

    def delivered() -> list[str]:
        return [m[1].message_id for m in watch.drain() if m[1].message_id in ids]

    try:
        wait_for(lambda: len(delivered()) >= len(ids), message="every event on pantau.ingress")
        assert delivered() == ids  # in order, none lost, none duplicated
    finally:
        watch.close()
