"""End to end: a citizen follows a case by e-mail (issue 9, "Follow a case").

The whole system runs as real subprocesses (mailer included), sending through the stack's SMTP
sink; the test reads the real messages from the sink's maildir (``tests.mailsink``). A citizen
asks on the case page, confirms with the link from the confirmation mail, hears of a public
status change in Bahasa Indonesia and English (plain text and HTML, RFC 8058 headers), and
unsubscribes with one POST; the next change reaches only another follower (the test waits for
that follower's mail, then checks the first received nothing more).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event
from pantau_intake.adapters.dev_credentials import dev_department
from tests.conftest import wait_for
from tests.e2e.system import System, running_system
from tests.mailsink import SMTP_HOST, SMTP_PORT, messages_to

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18911, 18910
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
DPMPTSP = "/kota-bandung/dpmptsp"


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    import socket

    try:  # the sink is a stack server: missing is a failure, never a skip
        socket.create_connection((SMTP_HOST, SMTP_PORT), timeout=2).close()
    except OSError:
        pytest.fail(f"SMTP sink not reachable at {SMTP_HOST}:{SMTP_PORT} (infra/stack.sh up)")
    state = tmp_path_factory.mktemp("follow-state")
    with running_system(amqp_url, state, name="follow", intake_port=INTAKE_PORT,
                        portal_port=PORTAL_PORT) as running:
        yield running


def send(receipt: str, seq: int, kind: str, data: dict[str, Any]) -> None:
    creds = dev_department("kota-bandung/dpmptsp")
    answer = HttpSender(INTAKE, creds.key_id, creds.secret).send(make_event(
        type=kind, source=DPMPTSP, subject=receipt, sequence=seq,
        data={"receipt_number": receipt, **data}))
    assert answer["status"] == "accepted", answer


def public_status(receipt: str) -> str | None:
    response = httpx.get(f"{PORTAL}/api/v1/cases/{receipt}", timeout=5)
    return str(response.json()["status"]) if response.status_code == 200 else None


def mail(address: str, count: int, system: System, what: str) -> EmailMessage:
    """Wait until ``address`` has ``count`` messages; the newest."""
    wait_for(lambda: len(messages_to(address)) >= count, timeout=45,
             message=f"{what} for the follower\n{system.logs()}")
    return messages_to(address)[count - 1]


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def link(text: str, path: str) -> str:
    start = text.index(f"{PORTAL}{path}?token=")
    return text[start:].split()[0]


def follow(client: httpx.Client, receipt: str, address: str, system: System) -> None:
    """Ask on the case page, then confirm with the link from the confirmation mail."""
    page = client.get(f"/kasus/{receipt}")
    assert 'id="follow"' in page.text and f'action="/kasus/{receipt}/ikuti"' in page.text
    answer = client.post(f"/kasus/{receipt}/ikuti", data={"email": address})
    assert answer.status_code == 202 and "Periksa kotak masuk" in answer.text
    confirmation = mail(address, 1, system, "the confirmation mail")
    assert confirmation["List-Unsubscribe"] is None  # nothing to leave yet
    plain, html = text_and_html(confirmation)
    url = link(plain, "/ikuti/konfirmasi")
    assert url.replace("&", "&amp;") in html or url in html
    shown = client.get(url.removeprefix(PORTAL))
    assert shown.status_code == 200 and 'id="confirm-button"' in shown.text
    token = url.split("token=", 1)[1]
    confirmed = client.post("/ikuti/konfirmasi", data={"token": token})
    assert confirmed.status_code == 200 and receipt in confirmed.text


def test_follow_confirm_hear_of_a_change_and_unsubscribe_with_one_click(system: System,
                                                                        unique: Any) -> None:
    receipt = unique("BDG-PBG")
    citizen = f"warga-{uuid.uuid4().hex[:8]}@example.com"
    neighbour = f"tetangga-{uuid.uuid4().hex[:8]}@example.com"
    send(receipt, 1, "case.submitted", {"service_code": "pbg", "kecamatan": "Coblong",
                                        "channel": "loket"})
    wait_for(lambda: public_status(receipt) == "diterima", timeout=30,
             message="the case in the portal\n" + system.logs())
    with httpx.Client(base_url=PORTAL, timeout=10) as client:
        follow(client, receipt, citizen, system)
        follow(client, receipt, neighbour, system)

        send(receipt, 2, "case.stage_started", {"stage": "verifikasi-berkas"})
        update = mail(citizen, 2, system, "the update mail")
        subject = update["Subject"].strip()
        assert receipt in subject and "Verifikasi" in subject and "Verification" in subject
        plain, html = text_and_html(update)
        for part in (plain, html):
            assert "Status kasus" in part and "The status of case" in part  # both languages
            assert "Verifikasi" in part and "Verification" in part
            assert "WIB" in part and f"{PORTAL}/kasus/{receipt}" in part
        assert plain.index("Status kasus") < plain.index("The status of case")
        unsubscribe = update["List-Unsubscribe"].strip()
        assert unsubscribe.startswith(f"<{PORTAL}/ikuti/berhenti?token=")
        assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert citizen not in system.logs() and neighbour not in system.logs()

        # RFC 8058: the mail client POSTs to the URL, no cookie, no confirmation
        target = urlsplit(unsubscribe.strip("<>"))
        gone = httpx.post(f"{PORTAL}{target.path}?{target.query}",
                          content=b"List-Unsubscribe=One-Click", timeout=10,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert gone.status_code == 200

    send(receipt, 3, "case.stage_started", {"stage": "konsultasi-teknis"})
    neighbours = mail(neighbour, 3, system, "the neighbour's second update")
    assert "Diproses" in neighbours["Subject"]
    assert len(messages_to(citizen)) == 2  # confirmation and one update: nothing after leaving
