"""AMQP ingress end to end on the real broker: department users, the nameko ingress process,
the received time stamped on what is forwarded, dead letters with reasons, feedback and replay."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pantau_client.department import DepartmentClient
from pantau_contracts.envelope import parse_time
from pantau_contracts.routing import ACCEPTED_EXCHANGE, DEAD_LETTER_EXCHANGE, FEEDBACK_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings
from pantau_tools.deadletters.cli import main as deadletters_main
from tests.conftest import wait_for
from tests.integration.intake.helpers import TempQueue, department_url
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration
DPMPTSP = DepartmentRef("kota-bandung", "dpmptsp")


@pytest.fixture(scope="module")
def department_users(amqp_url: str, management_url: str) -> None:
    settings = IntakeSettings(amqp_url=amqp_url, amqp_management_url=management_url)
    assert credentials_main(["apply-amqp", "--dev"], settings=settings) == 0


@pytest.fixture
def ingress(start_service: Callable[..., Any], department_users: None) -> Any:
    return start_service("pantau_intake.ingress")


@pytest.fixture
def queues(amqp_url: str) -> Iterator[Callable[[str, str], TempQueue]]:
    made: list[TempQueue] = []

    def make(exchange: str, key: str) -> TempQueue:
        queue = TempQueue(amqp_url, exchange, key)
        made.append(queue)
        return queue

    yield make
    for q in made:
        q.close()


@pytest.fixture
def dpmptsp_client(amqp_url: str, tmp_path: Path,
                   department_users: None) -> Iterator[DepartmentClient]:
    client = DepartmentClient(department_url(amqp_url, "kota-bandung/dpmptsp"), DPMPTSP,
                              tmp_path / "spool.jsonl")
    yield client
    client.close()


def submitted(source: str = "/kota-bandung/dpmptsp", service: str = "pbg",
              receipt: str | None = None, seq: int | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
        "type": "case.submitted", "time": datetime.now(UTC).isoformat(),
        "data": {"receipt_number": receipt or owned_receipt(source),
                 "service_code": service}}
    if seq is not None:
        event["sequence"] = seq
    return event


def with_id(queue: TempQueue, event_id: str) -> list[tuple[Any, Any, bytes]]:
    return [m for m in queue.drain() if m[1].message_id == event_id]


def test_valid_event_is_forwarded_once_with_confirms(
        ingress: Any, dpmptsp_client: DepartmentClient,
        queues: Callable[[str, str], TempQueue]) -> None:
    accepted = queues(ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.case.submitted")
    event = submitted()
    before = datetime.now(UTC)
    assert dpmptsp_client.send(event) == "sent"
    assert dpmptsp_client.send(event) == "sent"  # a retry: same id
    wait_for(lambda: with_id(accepted, event["id"]), timeout=30,
             message="the event forwarded to pantau.accepted")
    after = datetime.now(UTC)
    method, properties, body = with_id(accepted, event["id"])[0]
    assert properties.content_type == "application/cloudevents+json"
    # the event as sent plus the time the ingress took it (intake's clock, UTC)
    forwarded = json.loads(body)
    stamp = forwarded.pop("pantaureceived")
    # intake's publish span (pantau_platform.tracing), also in the message's headers
    assert forwarded.pop("traceparent") == properties.headers["traceparent"]
    assert forwarded == event
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp), stamp
    assert before <= parse_time(stamp) <= after
    # the retry is recognised by (source, id): forwarded once. Wait for a later event so the
    # retry has certainly been processed (the queue is consumed in order, one at a time).
    later = submitted()
    assert dpmptsp_client.send(later) == "sent"
    wait_for(lambda: with_id(accepted, later["id"]), timeout=30, message="the later event")
    assert len(with_id(accepted, event["id"])) == 1


def test_topic_permissions_refuse_another_departments_routing_key(
        dpmptsp_client: DepartmentClient) -> None:
    event = submitted("/kota-bandung/disdukcapil", "ktp-el")
    with pytest.raises(PermissionError):
        dpmptsp_client.publish_raw("kota-bandung.disdukcapil.case.submitted",
                                   json.dumps(event).encode(), event["id"])


def test_user_id_cannot_be_forged(amqp_url: str, tmp_path: Path,
                                  department_users: None) -> None:
    client = DepartmentClient(department_url(amqp_url, "kota-bandung/dpmptsp"), DPMPTSP,
                              tmp_path / "s.jsonl", user_id="dept.kota-bandung.disdukcapil")
    with pytest.raises(PermissionError):
        client.publish_raw("kota-bandung.dpmptsp.case.submitted", b"{}", "x")
    client.close()


def test_other_departments_event_is_dead_lettered_with_reason_and_feedback(
        ingress: Any, dpmptsp_client: DepartmentClient,
        queues: Callable[[str, str], TempQueue], amqp_url: str) -> None:
    dead = queues(DEAD_LETTER_EXCHANGE, "kota-bandung.dpmptsp.#")
    feedback = queues(FEEDBACK_EXCHANGE, "kota-bandung.dpmptsp")
    accepted = queues(ACCEPTED_EXCHANGE, "kota-bandung.#")
    # dpmptsp's own routing key (allowed by the broker) but disdukcapil's source
    event = submitted("/kota-bandung/disdukcapil", "ktp-el")
    dpmptsp_client.publish_raw("kota-bandung.dpmptsp.case.submitted",
                               json.dumps(event).encode(), event["id"])
    wait_for(lambda: with_id(dead, event["id"]), timeout=30, message="the dead letter")
    _m, properties, body = with_id(dead, event["id"])[0]
    reason = json.loads(properties.headers["x-pantau-reason"])
    assert reason["reason"] == "routing-key-mismatch"
    assert reason["errors"][0]["expected"] == "kota-bandung.disdukcapil.case.submitted"
    assert properties.headers["x-pantau-origin-exchange"] == "pantau.ingress"
    assert properties.headers["x-pantau-origin-routing-key"] == \
        "kota-bandung.dpmptsp.case.submitted"
    assert json.loads(body) == event
    wait_for(lambda: [b for b in feedback.bodies() if b["data"]["event_id"] == event["id"]],
             timeout=30, message="event.rejected feedback")
    record = next(b for b in feedback.bodies() if b["data"]["event_id"] == event["id"])
    assert record["type"] == "event.rejected"
    assert record["data"]["reason"] == "routing-key-mismatch"
    assert not with_id(accepted, event["id"])


def test_invalid_event_and_garbage_are_dead_lettered(
        ingress: Any, dpmptsp_client: DepartmentClient,
        queues: Callable[[str, str], TempQueue]) -> None:
    dead = queues(DEAD_LETTER_EXCHANGE, "kota-bandung.dpmptsp.#")
    bad = submitted()
    bad["data"]["service_code"] = "NOT A CODE"
    dpmptsp_client.publish_raw("kota-bandung.dpmptsp.case.submitted",
                               json.dumps(bad).encode(), bad["id"])
    garbage_id = str(uuid.uuid4())
    dpmptsp_client.publish_raw("kota-bandung.dpmptsp.case.submitted", b"\xff not json",
                               garbage_id)
    wait_for(lambda: with_id(dead, bad["id"]) and with_id(dead, garbage_id), timeout=30,
             message="both dead letters")
    reason = json.loads(with_id(dead, bad["id"])[0][1].headers["x-pantau-reason"])
    assert reason["reason"] == "invalid-event"
    assert "data.service_code" in [e["field"] for e in reason["errors"]]


def test_dead_letter_can_be_shown_and_replayed(
        ingress: Any, dpmptsp_client: DepartmentClient, amqp_url: str,
        queues: Callable[[str, str], TempQueue], capsys: pytest.CaptureFixture[str]) -> None:
    accepted = queues(ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.case.submitted")
    # not-yet-valid: a service code the catalogue... is valid, but sent with a wrong routing key
    event = submitted()
    event["data"]["applicant"] = {"name": "Siti Aminah", "nik": "3273010101010001"}
    dpmptsp_client.publish_raw("kota-bandung.dpmptsp.case.completed",
                               json.dumps(event).encode(), event["id"])
    settings = IntakeSettings(amqp_url=amqp_url)

    def listed() -> bool:
        capsys.readouterr()
        deadletters_main(["list"], settings=settings)
        return event["id"] in capsys.readouterr().out

    wait_for(listed, timeout=30, message="the dead letter in `list`")
    assert deadletters_main(["show", event["id"]], settings=settings) == 0
    shown = capsys.readouterr().out
    assert "routing-key-mismatch" in shown
    assert "Siti Aminah" not in shown and "3273010101010001" not in shown
    assert "published by:   pantau" in shown  # intake dead-lettered it: its word counts
    assert "original sender: dept.kota-bandung.dpmptsp" in shown
    # a replay runs intake's own checks as DPMPTSP first: still the wrong key, so it is refused,
    # reported and left where it is (never re-published to be dead-lettered again)
    assert deadletters_main(["replay", event["id"]], settings=settings) == 1
    assert "intake refuses it as dept.kota-bandung.dpmptsp: routing-key-mismatch" in \
        capsys.readouterr().out
    assert listed()
    assert not with_id(accepted, event["id"])


def test_lone_surrogate_is_dead_lettered_with_reason_and_ingress_carries_on(
        ingress: Any, dpmptsp_client: DepartmentClient,
        queues: Callable[[str, str], TempQueue]) -> None:
    dead = queues(DEAD_LETTER_EXCHANGE, "kota-bandung.dpmptsp.#")
    feedback = queues(FEEDBACK_EXCHANGE, "kota-bandung.dpmptsp")
    accepted = queues(ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.case.submitted")
    bad = submitted()
    message_id = bad["id"]
    raw = json.dumps(bad).encode().replace(message_id.encode(), b"\\ud800", 1)
    dpmptsp_client.publish_raw("kota-bandung.dpmptsp.case.submitted", raw, message_id)
    later = submitted()
    assert dpmptsp_client.send(later) == "sent"
    wait_for(lambda: with_id(dead, message_id), timeout=30, message="the dead letter")
    (_m, properties, body), = with_id(dead, message_id)
    reason = json.loads(properties.headers["x-pantau-reason"])
    assert reason["reason"] == "invalid-event"
    assert reason["errors"][0]["field"] == "id"
    assert body == raw
    wait_for(lambda: with_id(accepted, later["id"]), timeout=30, message="the next event")
    wait_for(lambda: [b for b in feedback.bodies() if b["data"]["event_id"] == message_id],
             timeout=30, message="event.rejected feedback (under the message id)")


# --- refusals of the trust rules: dead letter with a reason, event.rejected, nothing forwarded --


def refused_on_ingress(sender: DepartmentClient, event: dict[str, Any], department: str,
                       queues: Callable[[str, str], TempQueue]) -> tuple[dict[str, Any],
                                                                        dict[str, Any]]:
    """Publish ``event`` as ``department`` (``jurisdiction.code``); wait for its dead letter
    and its ``event.rejected``; check nothing was forwarded. Returns (reason, feedback data)."""
    dead = queues(DEAD_LETTER_EXCHANGE, f"{department}.#")
    feedback = queues(FEEDBACK_EXCHANGE, department)
    accepted = queues(ACCEPTED_EXCHANGE, f"{department}.#")
    raw = json.dumps(event).encode()
    sender.publish_raw(f"{department}.{event['type']}", raw, event["id"])
    wait_for(lambda: with_id(dead, event["id"]), timeout=30, message="the dead letter")
    (_m, properties, body), = with_id(dead, event["id"])
    assert body == raw  # the department's message as sent: never stamped
    reason = json.loads(properties.headers["x-pantau-reason"])
    told = wait_for(lambda: [b for b in feedback.bodies() if b["data"]["event_id"] == event["id"]],
                    timeout=30, message="event.rejected feedback")
    assert isinstance(told, list)
    record = told[0]
    assert record["type"] == "event.rejected"
    assert record["data"]["reason"] == reason["reason"]
    assert not with_id(accepted, event["id"])
    return reason, record["data"]


def test_a_sender_setting_pantaureceived_is_dead_lettered(
        ingress: Any, dpmptsp_client: DepartmentClient,
        queues: Callable[[str, str], TempQueue]) -> None:
    event = {**submitted(), "pantaureceived": "2026-01-05T03:00:00.000000Z"}
    reason, told = refused_on_ingress(dpmptsp_client, event, "kota-bandung.dpmptsp", queues)
    assert reason["reason"] == "invalid-event"
    assert [e["field"] for e in reason["errors"]] == ["pantaureceived"]
    assert [e["field"] for e in told["errors"]] == ["pantaureceived"]


def test_a_time_in_the_future_is_dead_lettered(
        ingress: Any, dpmptsp_client: DepartmentClient,
        queues: Callable[[str, str], TempQueue]) -> None:
    event = submitted()
    event["time"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    reason, told = refused_on_ingress(dpmptsp_client, event, "kota-bandung.dpmptsp", queues)
    assert reason["reason"] == "invalid-event"
    (error,) = reason["errors"]
    assert error["field"] == "time"
    assert error["expected"] == "not later than the server's time plus 300 s"
    assert told["receipt_number"] == event["data"]["receipt_number"]


def test_dishub_squatting_a_dpmptsp_receipt_is_dead_lettered(
        ingress: Any, amqp_url: str, tmp_path: Path,
        queues: Callable[[str, str], TempQueue]) -> None:
    dishub = DepartmentRef("kota-bandung", "dishub")
    event = submitted("/kota-bandung/dishub", "andalalin",
                      receipt=owned_receipt("kota-bandung/dpmptsp"))
    with DepartmentClient(department_url(amqp_url, "kota-bandung/dishub"), dishub,
                          tmp_path / "dishub.jsonl") as sender:
        reason, told = refused_on_ingress(sender, event, "kota-bandung.dishub", queues)
    assert reason["reason"] == "forbidden"
    (error,) = reason["errors"]
    assert error["field"] == "data.receipt_number"
    assert error["expected"] == "a receipt number starting with one of: BDG-ANDALALIN-, BDG-UB-"
    assert told["reason"] == "forbidden"
