"""End to end (issue 9, "Departments"): an HTTP-only department hears back.

The whole system runs as real subprocesses (now with intake's outcomes process). The department
configures a webhook with the credentials command, pointing at a real local HTTP receiver that
fails once and then accepts. It sends a ``case.submitted`` (applied) and a
``case.stage_started`` for a receipt that has no case (refused by tracking: ``unknown-case``);
each is answered 202. Then, over signed GETs through the SDK, it polls
``GET /v1/events/{id}`` until ``applied`` / ``refused`` with the reason, finds the refusal in
``GET /v1/refusals``, sees nothing of another department's, and its receiver gets the signed
``event.rejected`` (retried after the 500), which ``pantau_client.verify_webhook`` accepts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pantau_client.http_sender import HttpSender
from pantau_client.webhooks import verify_webhook
from pantau_contracts import make_event
from pantau_intake.adapters.dev_credentials import dev_department
from tests.conftest import REPO, wait_for
from tests.e2e.system import System, running_system
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18801, 18800
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
SOURCE = "/kota-bandung/dpmptsp"
DEV = dev_department("kota-bandung/dpmptsp")
METRICS_PORT = 18895
FAST = {"PANTAU_INTAKE_WEBHOOK_TICK_SECONDS": "0.1",
        "PANTAU_INTAKE_WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
        "PANTAU_INTAKE_WEBHOOK_BACKOFF_CAP_SECONDS": "1"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver([500, 200]) as running:
        yield running


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str, receiver: Receiver,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    state = tmp_path_factory.mktemp("e2e-hear-back")
    with running_system(amqp_url, state, name="hearback", intake_port=INTAKE_PORT,
                        portal_port=PORTAL_PORT,
                        per_process_env={"pantau_intake.outcomes": {
                            **FAST, "PANTAU_OUTCOMES_METRICS_PORT": str(METRICS_PORT)}}) as running:
        done = subprocess.run([sys.executable, "-m", "pantau_intake.credentials", "webhook", "set",
                               "--department", "kota-bandung/dpmptsp", "--url", receiver.url,
                               "--events", "refusals"],
                              cwd=REPO, env=running.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        yield running


def test_an_http_department_learns_what_was_applied_and_what_was_refused(
        system: System, receiver: Receiver, unique: Any) -> None:
    receipt, orphan = unique("BDG-PBG-HB"), unique("BDG-PBG-HB")
    sender = HttpSender(INTAKE, DEV.key_id, DEV.secret)
    submitted = make_event(type="case.submitted", source=SOURCE, subject=receipt, data={
        "receipt_number": receipt, "service_code": "pbg", "kecamatan": "Coblong"})
    stray = make_event(type="case.stage_started", source=SOURCE, subject=orphan,
                       data={"receipt_number": orphan, "stage": "verifikasi-berkas"})
    try:
        assert sender.send(submitted)["status"] == "accepted"
        assert sender.send(stray)["status"] == "accepted"  # 202: tracking decides later

        def status_of(event_id: str, wanted: str) -> dict[str, Any] | None:
            answer = sender.event_status(event_id)
            return answer if answer and answer["status"] == wanted else None

        applied = wait_for(lambda: status_of(str(submitted.get_id()), "applied"), timeout=30,
                           message=f"applied\n{system.logs()}")
        assert isinstance(applied, dict) and applied["revision"] == 1
        assert applied["receipt_number"] == receipt and applied["accepted_at"]
        refused = wait_for(lambda: status_of(str(stray.get_id()), "refused"), timeout=30,
                           message=f"refused\n{system.logs()}")
        assert isinstance(refused, dict)
        assert (refused["reason"], refused["stage"]) == ("unknown-case", "tracking")
        assert orphan in refused["detail"] and refused["refused_at"]

        page = sender.refusals(0, limit=500)
        mine = [r for r in page["refusals"] if r["id"] == str(stray.get_id())]
        assert len(mine) == 1 and mine[0]["reason"] == "unknown-case"
        assert page["next"] >= mine[0]["cursor"]
    finally:
        sender.close()

    other = dev_department("kota-bandung/disdukcapil")
    stranger = HttpSender(INTAKE, other.key_id, other.secret)
    try:  # another department can neither see our event nor our refusals
        assert stranger.event_status(str(stray.get_id())) is None
        assert all(r["source"] != SOURCE for r in stranger.refusals(0)["refusals"])
    finally:
        stranger.close()

    def delivered() -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in receiver.answered(200)
                if json.loads(r.body)["data"]["event_id"] == str(stray.get_id())]

    wait_for(delivered, timeout=30, message=f"the webhook got the refusal\n{system.logs()}")
    assert receiver.answered(500), "the first attempt failed and was retried"

    def attempts() -> dict[str, float]:  # what the operator sees (pantau_webhook_attempts_total)
        text = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).text
        return {s.labels["result"]: s.value for f in text_string_to_metric_families(text)
                for s in f.samples if s.name == "pantau_webhook_attempts_total"
                and s.labels["department"] == "dpmptsp"}
    def counted_delivered() -> dict[str, float] | None:
        counted = attempts()
        return counted if counted.get("delivered") else None

    counted = wait_for(counted_delivered, timeout=10,
                       message="the outcomes process's webhook counter")
    assert counted["pending"] >= 1 and "dead" not in counted  # the 500, retried
    for request in receiver.requests:
        event = verify_webhook({DEV.key_id: DEV.secret}, request.headers, request.body,
                               target=request.target)
        assert event["type"] == "event.rejected" and event["data"]["reason"] == "unknown-case"
        assert set(event["data"]) <= {"event_id", "event_source", "event_type", "receipt_number",
                                      "stage", "reason", "detail", "errors", "rejected_at"}
