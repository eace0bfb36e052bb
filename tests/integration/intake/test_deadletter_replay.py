"""Dead-letter replay is no confused deputy (issue 14 item 2), on the real broker.

The forgery of the issue end to end: Kota Bandung's Dishub, logged in as its own AMQP user,
publishes a ``case.withdrawn`` naming a DPMPTSP receipt with ``expiration`` and forged
x-pantau-* headers while the ingress is down; the broker expires it into the dead-letter queue;
``show`` names Dishub and flags it; ``replay`` refuses it (intake's own checks, as Dishub) and
nothing reaches ``pantau.accepted`` — the only way to tracking, so the case cannot be withdrawn.
A legitimate letter replays through the ingress and leaves the dead-letter queue; a letter that
died in ``tracking.accepted`` goes back there; ``scrub`` removes ``data.applicant`` and keeps what
a later replay needs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pika
import pytest

from pantau_contracts.routing import (
    ACCEPTED_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    INGRESS_EXCHANGE,
    TRACKING_QUEUE,
)
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.settings import IntakeSettings
from pantau_tools.deadletters.cli import main as deadletters_main
from pantau_tools.deadletters.queue import DeadLetter, DeadLetterQueue
from tests.conftest import wait_for
from tests.integration.intake.helpers import TempQueue, department_url, receipt

pytestmark = pytest.mark.integration
DISHUB = "kota-bandung/dishub"
DPMPTSP = "kota-bandung/dpmptsp"


@pytest.fixture(scope="module")
def department_users(amqp_url: str, management_url: str) -> None:
    settings = IntakeSettings(amqp_url=amqp_url, amqp_management_url=management_url)
    assert credentials_main(["apply-amqp", "--dev"], settings=settings) == 0


@pytest.fixture
def settings(amqp_url: str, department_users: None) -> IntakeSettings:
    return IntakeSettings(amqp_url=amqp_url)


@pytest.fixture
def observe(amqp_url: str) -> Iterator[Callable[[str, str], TempQueue]]:
    made: list[TempQueue] = []

    def make(exchange: str, key: str) -> TempQueue:
        made.append(TempQueue(amqp_url, exchange, key))
        return made[-1]

    yield make
    for queue in made:
        queue.close()


def event(source: str, type_: str, receipt_number: str, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source, "type": type_,
            "time": datetime.now(UTC).isoformat(),
            "data": {"receipt_number": receipt_number, **data}}


def publish_as(amqp_url: str, department: str, routing_key: str, ev: dict[str, Any],
               headers: dict[str, Any] | None = None, expiration: str | None = "1") -> None:
    """Publish like a department would, under its own login and user_id."""
    user = "dept." + department.replace("/", ".")
    connection = pika.BlockingConnection(pika.URLParameters(department_url(amqp_url,
                                                                           department)))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(INGRESS_EXCHANGE, routing_key, json.dumps(ev).encode(),
                              pika.BasicProperties(
                                  content_type="application/cloudevents+json", delivery_mode=2,
                                  message_id=ev["id"], user_id=user, expiration=expiration,
                                  headers=headers or {}), mandatory=True)
    finally:
        connection.close()


def dead(amqp_url: str, letter_id: str) -> list[DeadLetter]:
    """The dead letters with ``letter_id`` (fetched and returned to the queue)."""
    dlq = DeadLetterQueue(amqp_url)
    try:
        return [x for x in dlq.fetch() if x.id == letter_id]
    finally:
        dlq.close()


def wait_dead(amqp_url: str, letter_id: str) -> list[DeadLetter]:
    found: list[DeadLetter] = []

    def there() -> bool:
        found[:] = dead(amqp_url, letter_id)
        return bool(found)

    wait_for(there, timeout=30, message=f"dead letter {letter_id}")
    return found


def ids(queue: TempQueue) -> set[str]:
    return {props.message_id for _m, props, _b in queue.drain()}


def test_the_forged_withdrawal_is_shown_as_dishubs_and_never_replayed(
        amqp_url: str, settings: IntakeSettings, observe: Callable[[str, str], TempQueue],
        capsys: pytest.CaptureFixture[str]) -> None:
    accepted = observe(ACCEPTED_EXCHANGE, "#")
    forged = event("/kota-bandung/dpmptsp", "case.withdrawn", receipt(DPMPTSP))
    publish_as(amqp_url, DISHUB, "kota-bandung.dishub.case.withdrawn", forged, headers={
        "x-pantau-origin-exchange": "pantau.accepted",
        "x-pantau-origin-routing-key": "kota-bandung.dpmptsp.case.withdrawn",
        "x-pantau-reason": json.dumps({"reason": "handler-failed"}),
        "x-death": [{"queue": "tracking.accepted", "reason": "delivery_limit", "count": 1,
                     "exchange": "pantau.accepted",
                     "routing-keys": ["kota-bandung.dpmptsp.case.withdrawn"]}]})
    (letter, *_more) = wait_dead(amqp_url, forged["id"])
    assert letter.user_id == "dept.kota-bandung.dishub"  # RabbitMQ checked it at publish
    ingress = observe(INGRESS_EXCHANGE, "#")  # from now on: would a replay be published?

    capsys.readouterr()
    assert deadletters_main(["list"], settings=settings) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if forged["id"] in x)
    assert "dept.kota-bandung.dishub" in line and "SUSPICIOUS" in line
    assert "died in intake.ingress" in line and "expired" in line

    assert deadletters_main(["show", forged["id"]], settings=settings) == 0
    shown = capsys.readouterr().out
    assert "published by:   dept.kota-bandung.dishub" in shown
    assert "broker reason:  expired in intake.ingress" in shown
    assert "pantau reason:  - (none written by Pantau)" in shown
    assert "SUSPICIOUS:     x-pantau-reason was set by the publisher" in shown
    assert "replay:         refused" in shown

    assert deadletters_main(["replay", forged["id"]], settings=settings) == 1
    out = capsys.readouterr().out
    assert f"refused {forged['id']}: intake refuses it as dept.kota-bandung.dishub" in out
    assert dead(amqp_url, forged["id"]), "a refused letter stays in the dead-letter queue"
    assert forged["id"] not in ids(ingress) | ids(accepted)  # the case cannot be withdrawn


def test_dishub_squatting_a_dpmptsp_receipt_is_refused_as_forbidden(
        amqp_url: str, settings: IntakeSettings, observe: Callable[[str, str], TempQueue],
        capsys: pytest.CaptureFixture[str]) -> None:
    squat = event("/kota-bandung/dishub", "case.withdrawn", receipt(DPMPTSP))
    publish_as(amqp_url, DISHUB, "kota-bandung.dishub.case.withdrawn", squat)
    wait_dead(amqp_url, squat["id"])
    ingress = observe(INGRESS_EXCHANGE, "#")
    capsys.readouterr()
    assert deadletters_main(["replay", squat["id"]], settings=settings) == 1
    assert "dept.kota-bandung.dishub: forbidden" in capsys.readouterr().out
    assert dead(amqp_url, squat["id"]) and squat["id"] not in ids(ingress)


def test_a_legitimate_letter_replays_through_the_ingress_and_leaves_the_queue(
        amqp_url: str, settings: IntakeSettings, observe: Callable[[str, str], TempQueue],
        start_service: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    accepted = observe(ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    ev = event("/kota-bandung/dpmptsp", "case.submitted", receipt(DPMPTSP), service_code="pbg")
    publish_as(amqp_url, DPMPTSP, "kota-bandung.dpmptsp.case.submitted", ev)
    assert len(wait_dead(amqp_url, ev["id"])) == 1
    start_service("pantau_intake.ingress")
    capsys.readouterr()
    assert deadletters_main(["replay", ev["id"]], settings=settings) == 0
    assert "through intake's checks as dept.kota-bandung.dpmptsp" in capsys.readouterr().out
    assert dead(amqp_url, ev["id"]) == [], "the replayed letter left the dead-letter queue"

    def forwarded() -> list[dict[str, Any]]:
        return [json.loads(b) for _m, p, b in accepted.drain() if p.message_id == ev["id"]]

    wait_for(forwarded, timeout=30, message="the replayed event accepted by the ingress")
    assert forwarded()[0]["pantaureceived"]  # intake accepted it: stamped on forward


def test_a_letter_that_died_in_tracking_goes_back_to_tracking_only_if_stamped(
        amqp_url: str, settings: IntakeSettings, capsys: pytest.CaptureFixture[str]) -> None:
    ev = event("/kota-bandung/dpmptsp", "case.submitted", receipt(DPMPTSP), service_code="pbg")
    unstamped = dict(ev, id=str(uuid.uuid4()))
    ev["pantaureceived"] = datetime.now(UTC).isoformat()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))  # as a Pantau service
    channel = connection.channel()
    channel.confirm_delivery()
    for item in (ev, unstamped):
        channel.basic_publish(DEAD_LETTER_EXCHANGE, "kota-bandung.dpmptsp.case.submitted",
                              json.dumps(item).encode(), pika.BasicProperties(
                                  message_id=item["id"], user_id="pantau", delivery_mode=2,
                                  content_type="application/cloudevents+json", headers={
                                      "x-pantau-origin-queue": TRACKING_QUEUE,
                                      "x-pantau-origin-exchange": ACCEPTED_EXCHANGE,
                                      "x-pantau-reason": json.dumps({"reason": "test"})}))
    wait_dead(amqp_url, unstamped["id"])
    capsys.readouterr()
    assert deadletters_main(["replay", unstamped["id"]], settings=settings) == 1
    assert "no pantaureceived stamp" in capsys.readouterr().out
    assert deadletters_main(["replay", ev["id"]], settings=settings) == 0
    assert "queue tracking.accepted" in capsys.readouterr().out
    assert dead(amqp_url, ev["id"]) == []
    found = []
    while (got := channel.basic_get(TRACKING_QUEUE, auto_ack=False))[0] is not None:
        method, props, _body = got
        if props.message_id == ev["id"]:
            channel.basic_ack(method.delivery_tag)
            found.append(props)
    connection.close()  # anything else goes back to tracking.accepted
    assert [p.user_id for p in found] == ["pantau"]


def test_scrub_removes_the_applicant_and_keeps_what_replay_needs(
        amqp_url: str, settings: IntakeSettings, capsys: pytest.CaptureFixture[str]) -> None:
    forged = event("/kota-bandung/dpmptsp", "case.submitted", receipt(DPMPTSP),
                   service_code="pbg", applicant={"name": "Siti Aminah", "nik": "3273010101"})
    publish_as(amqp_url, DISHUB, "kota-bandung.dishub.case.submitted", forged,
               headers={"x-pantau-provenance": json.dumps({"died_in": "tracking.accepted"})})
    wait_dead(amqp_url, forged["id"])
    assert deadletters_main(["scrub", "--older-than", "0"], settings=settings) == 0
    (letter,) = dead(amqp_url, forged["id"])
    body = json.loads(letter.body)
    assert "applicant" not in body["data"]
    assert body["data"]["receipt_number"] == forged["data"]["receipt_number"]
    assert letter.user_id == "pantau" and "x-death" not in letter.headers
    kept = json.loads(letter.headers["x-pantau-provenance"])
    assert kept["died_in"].startswith("intake.ingress")  # the catch-all or Dishub's own queue
    assert (kept["original_user"], kept["vouched_by"]) == ("dept.kota-bandung.dishub", "broker")
    capsys.readouterr()
    assert deadletters_main(["show", forged["id"]], settings=settings) == 0
    shown = capsys.readouterr().out
    assert "original sender: dept.kota-bandung.dishub" in shown and "Siti" not in shown
    assert deadletters_main(["replay", forged["id"]], settings=settings) == 1  # still Dishub's
    assert dead(amqp_url, forged["id"])
