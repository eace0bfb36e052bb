"""End to end: a department's event travels through every real process to the public portal.

The whole system runs as real subprocesses (intake-http, intake-ingress, tracking, indexer,
portal) on the real RabbitMQ (test vhost), database and Elasticsearch (unique aliases). One test per
user-facing path: HTTP intake, AMQP intake, and a refusal reported back to the department.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest

from pantau_client.department import DepartmentClient
from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.domain.departments import DepartmentRef
from tests.conftest import wait_for
from tests.e2e.system import running_system

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18001, 18000
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
SOURCE = "/kota-bandung/dpmptsp"


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with running_system(amqp_url, tmp_path_factory.mktemp("e2e-state"), name="e2e",
                        intake_port=INTAKE_PORT, portal_port=PORTAL_PORT) as running:
        yield running.env


def public_case(receipt: str) -> dict[str, Any] | None:
    response = httpx.get(f"{PORTAL}/api/v1/cases/{receipt}", timeout=5)
    return response.json() if response.status_code == 200 else None


def submitted(receipt: str, **extra: Any) -> dict[str, Any]:
    return {"receipt_number": receipt, "service_code": "pbg", "kecamatan": "Coblong",
            "channel": "online", "note": "Berkas diterima, pemohon Siti Aminah (0812 3456 7890).",
            "applicant": {"name": "Siti Aminah", "nik": "3273014101900001",
                          "phone": "081234567890", "email": "siti.aminah@contoh.id",
                          "address": "Jl. Ir. H. Juanda No. 12, Coblong"}, **extra}


PRIVATE = ["Siti", "Aminah", "3273014101900001", "081234567890", "0812 3456 7890",
           "siti.aminah@contoh.id", "Juanda No. 12"]


def assert_no_private_data(text: str) -> None:
    for value in PRIVATE:
        assert value not in text, f"personal data {value!r} reached the public side"


def test_http_event_reaches_the_portal_api_search_and_case_page(system: dict[str, str],
                                                                unique: Any) -> None:
    receipt = unique("BDG-PBG-E2E")
    creds = dev_department("kota-bandung/dpmptsp")
    sender = HttpSender(INTAKE, creds.key_id, creds.secret)
    answer = sender.send(make_event(type="case.submitted", source=SOURCE, subject=receipt,
                                    sequence=1, data=submitted(receipt)))
    assert answer["status"] == "accepted"

    case = wait_for(lambda: public_case(receipt), timeout=20, message="case in the portal API")
    assert isinstance(case, dict)
    assert case["status"] == "diterima" and case["service_code"] == "pbg"
    assert case["max_working_days"] == 28 and case["due_date"]
    assert_no_private_data(json.dumps(case))

    sender.send(make_event(type="case.stage_started", source=SOURCE, subject=receipt, sequence=2,
                           data={"receipt_number": receipt, "stage": "verifikasi-berkas"}))
    wait_for(lambda: (public_case(receipt) or {}).get("status") == "verifikasi", timeout=20,
             message="status verifikasi")

    def search(**params: Any) -> list[str]:
        found = httpx.get(f"{PORTAL}/api/v1/cases", params=params, timeout=5).json()
        return [c["receipt_number"] for c in found["results"]]

    # search reads the index after its refresh (500 ms); the single-case API reads in real time
    wait_for(lambda: search(q=receipt) == [receipt], timeout=10, message="search by receipt")
    wait_for(lambda: receipt in search(q="Bangunan Gedung", kecamatan="Coblong", size=100,
                                       sort="terbaru"), timeout=10, message="free-text search")

    home = httpx.get(f"{PORTAL}/", params={"q": receipt}, timeout=5, follow_redirects=True)
    assert home.status_code == 200 and receipt in home.text
    assert "Verifikasi" in home.text
    assert_no_private_data(home.text)

    def in_feeds() -> bool:
        atom = httpx.get(f"{PORTAL}/feeds/case/{receipt}.atom", timeout=5)
        feed = httpx.get(f"{PORTAL}/feed.json", timeout=5).json()
        return (atom.status_code == 200 and receipt in atom.text
                and any(receipt in json.dumps(item) for item in feed["items"]))

    wait_for(in_feeds, timeout=20, message="the case in the Atom and JSON feeds")
    assert_no_private_data(httpx.get(f"{PORTAL}/feed.atom", timeout=5).text)

    kota = {"jurisdiction_id": "kota-bandung"}  # Open311 needs it: several are served
    request = httpx.get(f"{PORTAL}/open311/v2/requests/{receipt}.json", params=kota, timeout=5)
    assert request.status_code == 200
    [open311] = request.json()
    assert open311["service_request_id"] == receipt and open311["status"] == "open"
    xml = httpx.get(f"{PORTAL}/open311/v2/requests/{receipt}.xml", params=kota, timeout=5)
    assert xml.status_code == 200 and f"<service_request_id>{receipt}<" in xml.text
    assert_no_private_data(request.text + xml.text)


def test_amqp_event_from_the_department_client_reaches_the_portal(system: dict[str, str],
                                                                  unique: Any,
                                                                  tmp_path: Path) -> None:
    amqp_url = system["PANTAU_AMQP_URL"]
    receipt = unique("BDG-PBG-E2EQ")
    creds = dev_department("kota-bandung/dpmptsp")
    ref = DepartmentRef("kota-bandung", "dpmptsp")
    url = amqp_url.replace("pantau:pantau@", f"{ref.amqp_user}:{creds.amqp_password}@")
    client = DepartmentClient(url, ref, tmp_path / "spool.jsonl")
    try:
        for seq, (kind, data) in enumerate([
            ("case.submitted", submitted(receipt)),
            ("case.stage_started", {"receipt_number": receipt, "stage": "verifikasi-berkas"}),
            ("case.returned", {"receipt_number": receipt,
                               "reason": "Lengkapi dokumen rencana teknis."}),
        ], start=1):
            assert client.send(make_event(type=kind, source=SOURCE, subject=receipt,
                                          sequence=seq, data=data)) == "sent"
    finally:
        client.close()
    case = wait_for(lambda: (c := public_case(receipt)) and c["status"] == "dikembalikan" and c,
                    timeout=20, message="returned case in the portal")
    assert isinstance(case, dict) and case["paused"] is True
    assert [e["status"] for e in case["timeline"]] == ["diterima", "verifikasi", "dikembalikan"]
    assert_no_private_data(json.dumps(case))


def test_refused_event_is_reported_back_to_the_department(system: dict[str, str],
                                                          unique: Any) -> None:
    amqp_url = system["PANTAU_AMQP_URL"]
    receipt = unique("BDG-PBG-E2EX")
    creds = dev_department("kota-bandung/dpmptsp")
    ref = DepartmentRef("kota-bandung", "dpmptsp")
    sender = HttpSender(INTAKE, creds.key_id, creds.secret)
    # a stage for a case that was never submitted: valid contract, refused by tracking
    event = make_event(type="case.stage_started", source=SOURCE, subject=receipt,
                       time=datetime.now(UTC),
                       data={"receipt_number": receipt, "stage": "verifikasi-berkas"})
    assert sender.send(event)["status"] == "accepted"

    url = amqp_url.replace("pantau:pantau@", f"{ref.amqp_user}:{creds.amqp_password}@")
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    queue = f"feedback.{ref.jurisdiction}.{ref.department}"

    def rejection() -> dict[str, Any] | None:
        while True:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return None
            data = json.loads(body)["data"]
            if data.get("receipt_number") == receipt:
                return data

    try:
        data = wait_for(rejection, timeout=20, message="event.rejected on the feedback queue")
    finally:
        connection.close()
    assert isinstance(data, dict)
    assert data["stage"] == "tracking" and data["event_id"] == event.get_id()
    assert data["reason"] and data["detail"]
