"""``python -m pantau_intake.http`` as a real process; the HTTP client variant and CLI import."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pantau_client.http_sender import HttpSender, Refused
from pantau_contracts import make_event
from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.settings import IntakeSettings
from tests.conftest import REPO, wait_for
from tests.integration.intake.helpers import TempQueue, dev
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def intake_http(start_service: Callable[..., Any], tmp_path: Path, amqp_url: str) -> str:
    state = tmp_path / "state"
    assert credentials_main(["bootstrap-dev"], settings=IntakeSettings(state_dir=state)) == 0
    port = free_port()
    start_service("pantau_intake.http", PANTAU_INTAKE_PORT=str(port), PANTAU_STATE_DIR=str(state))
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(url + "/readyz", timeout=1).status_code == 200, timeout=30,
             message="intake HTTP ready")
    return url


def test_http_sender_against_the_running_service(intake_http: str, amqp_url: str,
                                                 tmp_path: Path) -> None:
    creds = dev("kota-bandung/dpmptsp")
    queue = TempQueue(amqp_url, ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    sender = HttpSender(intake_http, creds.key_id, creds.secret)
    receipt = owned_receipt(tag="HP")
    event = make_event(type="case.submitted", source="/kota-bandung/dpmptsp",
                       data={"receipt_number": receipt, "service_code": "pbg"})
    assert sender.send(event)["status"] == "accepted"
    assert sender.send(event)["status"] == "accepted"  # retry: same answer
    with pytest.raises(Refused) as refused:
        sender.send(make_event(type="case.submitted", source="/kota-bandung/dpmptsp",
                               data={"receipt_number": receipt, "service_code": "ktp-el"}))
    assert refused.value.problem["status"] == 403
    # the CLI's bulk import over HTTP, resumable
    backlog = tmp_path / "backlog.jsonl"
    backlog.write_text(json.dumps({"type": "case.stage_started", "sequence": 2, "data": {
        "receipt_number": receipt, "stage": "verifikasi-berkas"}}) + "\n")
    command = [sys.executable, "-m", "pantau_client", "--dev", "--via", "http",
               "--http-url", intake_http, "--department", "kota-bandung/dpmptsp", "--quiet",
               "import", str(backlog)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 sent" in done.stdout
    again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "nothing new" in again.stdout
    wait_for(lambda: len([m for m in queue.drain()
                          if receipt in m[2].decode()]) == 2, message="two events")
    queue.close()
    sender.close()
