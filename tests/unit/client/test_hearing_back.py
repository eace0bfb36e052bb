"""The SDK's ``event_status``, ``refusals`` and ``follow_refusals`` against intake's real app
in-process (fake readers behind it): what the SDK signs for a GET is what intake verifies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pantau_client.http_sender import HttpSender
from pantau_intake.http.app import create_app
from pantau_intake.service.event_status import EventStatusService
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import SECRETS, FakeDirectory, FakeKeys, RecordingForwarder
from tests.unit.intake.test_event_status_api import Readers


@pytest.fixture
def sender() -> HttpSender:
    readers = Readers()
    app = create_app(IntakeSettings(), keys=FakeKeys(), directory=FakeDirectory(),
                     forwarder=RecordingForwarder(), status=EventStatusService(readers, readers))
    return HttpSender("http://testserver", "k-dpmptsp", SECRETS["k-dpmptsp"],
                      client=TestClient(app), attempts=1)


def test_event_status_and_unknown(sender: HttpSender) -> None:
    refused = sender.event_status("e-refused")
    assert refused is not None and refused["reason"] == "stage-order"
    assert sender.event_status("e-theirs") is None  # another department's: unknown to us
    assert sender.event_status("a/b?c") is None  # quoted into one path segment


def test_refusals_pages_and_following(sender: HttpSender) -> None:
    assert sender.refusals()["next"] == 3
    pauses: list[float] = []

    def stop_after_one_pause(seconds: float) -> None:
        pauses.append(seconds)
        raise KeyboardInterrupt

    followed = []
    with pytest.raises(KeyboardInterrupt):
        for cursor, refusal in sender.follow_refusals(0, interval=2.0,
                                                       sleep=stop_after_one_pause):
            followed.append((cursor, refusal["id"]))
    assert followed == [(3, "e-refused")] and pauses == [2.0]
