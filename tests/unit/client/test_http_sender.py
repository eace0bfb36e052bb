"""``HttpSender`` against intake's real app in-process (its ``TestClient`` is the httpx client):
what the SDK signs (v2) is what intake verifies, in every content mode."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_client.http_sender import HttpSender, Refused
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import (
    SECRETS,
    FakeDirectory,
    FakeKeys,
    FixedClock,
    RecordingForwarder,
    event,
)


@pytest.fixture
def forwarder() -> RecordingForwarder:
    return RecordingForwarder()


def sender(forwarder: RecordingForwarder, **settings: Any) -> HttpSender:
    app = create_app(IntakeSettings(**settings), keys=FakeKeys(), directory=FakeDirectory(),
                     forwarder=forwarder, received_clock=FixedClock())
    return HttpSender("http://testserver", "k-dpmptsp", SECRETS["k-dpmptsp"],
                      client=TestClient(app), attempts=1)


def test_structured_batch_and_binary_are_accepted_with_v1_switched_off(
        forwarder: RecordingForwarder) -> None:
    client = sender(forwarder, intake_accept_v1_signatures=False)
    assert client.send(event())["status"] == "accepted"
    assert client.send_batch([event(), event("case.stage_started")])["count"] == 2
    ev = event("case.stage_started")
    attributes = {name: ev[name] for name in ("specversion", "id", "source", "type", "time")}
    assert client.send_binary(attributes, ev["data"])["status"] == "accepted"
    assert json.loads(forwarder.forwarded[-1].raw)["id"] == ev["id"]
    assert len(forwarder.forwarded) == 4


def test_a_refusal_carries_the_problem(forwarder: RecordingForwarder) -> None:
    with pytest.raises(Refused) as refused:
        sender(forwarder).send(event(source="/kota-bandung/disdukcapil"))
    assert refused.value.problem["status"] == 403
