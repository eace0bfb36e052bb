"""The contract's refusals reach the sender with no extra code at the edges: over AMQP the event
is dead-lettered as ``invalid-event`` naming the field (over HTTP it is a 422 problem naming it:
``tests/e2e/test_public_text.py``)."""

from __future__ import annotations

import pytest

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.messages import ReceivedMessage, Refusal, RefusalRecord
from pantau_intake.service.ingress import IngressHandler
from tests.unit.intake.fakes import FakeDirectory, FixedClock, RecordingForwarder, body, event


class Rejections:
    def __init__(self) -> None:
        self.dead: list[Refusal] = []

    def dead_letter(self, delivery: ReceivedMessage, rejection: Refusal) -> None:
        self.dead.append(rejection)

    def feedback(self, department: DepartmentRef, record: RefusalRecord) -> None:
        pass


@pytest.mark.parametrize(("event_type", "data", "field"), [
    ("case.stage_started", {"note": "Berkas\x01 lengkap"}, "data.note"),
    ("case.returned", {"reason": "Lengkapi\ufffe gambar"}, "data.reason"),
    ("case.completed", {"actor_role": "hp-081234567890"}, "data.actor_role"),
    ("case.submitted", {"receipt_number": "3273010101010001"}, "data.receipt_number"),
])
def test_amqp_dead_letters_naming_the_field(event_type: str, data: dict[str, str],
                                            field: str) -> None:
    forwarder, rejections = RecordingForwarder(), Rejections()
    handler = IngressHandler(FakeDirectory(), forwarder, rejections, trusted_users=["pantau"],
                             clock=FixedClock())
    delivery = ReceivedMessage(body=body(event(event_type, **data)), exchange="pantau.ingress",
                               routing_key=f"kota-bandung.dpmptsp.{event_type}",
                               user_id="dept.kota-bandung.dpmptsp",
                               content_type="application/cloudevents+json", message_id="m1")
    assert handler.handle(delivery) == "rejected"
    (rejection,) = rejections.dead
    assert rejection.reason == "invalid-event"
    assert field in {p["field"] for p in rejection.as_dict()["errors"]}
    assert not forwarder.forwarded
