"""The contract's refusals reach the sender with no extra code at the edges: over AMQP the event
is dead-lettered as ``invalid-event`` naming the field (over HTTP it is a 422 problem naming it:
``tests/e2e/test_public_text.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.messages import ReceivedMessage, Refusal, RefusalRecord
from pantau_intake.service.ingress import IngressHandler
from tests.unit.intake.fakes import FakeDirectory, FixedClock, RecordingForwarder, body, event


class Feedback:
    def __init__(self) -> None:
        self.told: list[Refusal] = []

    def feedback(self, department: DepartmentRef, records: Sequence[RefusalRecord]) -> None:
        self.told.extend(record.refusal for record in records)


@pytest.mark.parametrize(("event_type", "data", "field"), [
    ("case.stage_started", {"note": "Berkas\x01 lengkap"}, "data.note"),
    ("case.returned", {"reason": "Lengkapi\ufffe gambar"}, "data.reason"),
    ("case.completed", {"actor_role": "hp-081234567890"}, "data.actor_role"),
    ("case.submitted", {"receipt_number": "3273010101010001"}, "data.receipt_number"),
])
def test_amqp_dead_letters_naming_the_field(event_type: str, data: dict[str, str],
                                            field: str) -> None:
    forwarder, feedback = RecordingForwarder(), Feedback()
    handler = IngressHandler(FakeDirectory(), forwarder, feedback, trusted_users=["pantau"],
                             clock=FixedClock())
    delivery = ReceivedMessage(body=body(event(event_type, **data)), exchange="pantau.ingress",
                               routing_key=f"kota-bandung.dpmptsp.{event_type}",
                               user_id="dept.kota-bandung.dpmptsp",
                               content_type="application/cloudevents+json", message_id="m1")
    batch = handler.handle([delivery])
    assert batch.outcomes == ("refused",)
    reason = batch.dead_letter_reasons()[0]  # what the shared consumer dead-letters
    assert reason["reason"] == "invalid-event"
    assert field in {p["field"] for p in reason["errors"]}
    assert not forwarder.forwarded
    handler.tell(batch)
    assert [r.reason for r in feedback.told] == ["invalid-event"]
