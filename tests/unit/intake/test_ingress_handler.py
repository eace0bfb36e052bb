from __future__ import annotations

import json
from typing import Any

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.service.ingress import Delivery, IngressHandler, RejectedRecord, Rejection
from tests.unit.intake.fakes import FakeDirectory, RecordingForwarder, body, event

KEY = "kota-bandung.dpmptsp.case.submitted"
USER = "dept.kota-bandung.dpmptsp"


class RecordingRejections:
    def __init__(self) -> None:
        self.dead: list[tuple[Delivery, Rejection]] = []
        self.told: list[tuple[DepartmentRef, RejectedRecord]] = []

    def dead_letter(self, delivery: Delivery, rejection: Rejection) -> None:
        self.dead.append((delivery, rejection))

    def feedback(self, department: DepartmentRef, record: RejectedRecord) -> None:
        self.told.append((department, record))


def setup() -> tuple[IngressHandler, RecordingForwarder, RecordingRejections]:
    forwarder, rejections = RecordingForwarder(), RecordingRejections()
    handler = IngressHandler(FakeDirectory(), forwarder, rejections, trusted_users=["pantau"])
    return handler, forwarder, rejections


def delivery(raw: bytes, routing_key: str = KEY, user: str | None = USER,
             **extra: Any) -> Delivery:
    return Delivery(body=raw, exchange="pantau.ingress", routing_key=routing_key, user_id=user,
                    content_type="application/cloudevents+json", message_id="m1", **extra)


def test_valid_event_is_forwarded() -> None:
    handler, forwarder, rejections = setup()
    assert handler.handle(delivery(body(event()))) == "accepted"
    assert len(forwarder.forwarded) == 1 and not rejections.dead


def test_retry_is_a_duplicate_and_other_content_a_conflict() -> None:
    handler, forwarder, rejections = setup()
    ev = event()
    assert handler.handle(delivery(body(ev))) == "accepted"
    assert handler.handle(delivery(body(ev))) == "duplicate"
    ev["data"]["kecamatan"] = "Coblong"
    assert handler.handle(delivery(body(ev))) == "rejected"
    assert rejections.dead[0][1].reason == "event-id-conflict"
    assert len(forwarder.forwarded) == 1


def test_invalid_json_is_dead_lettered_with_errors() -> None:
    handler, forwarder, rejections = setup()
    assert handler.handle(delivery(b"\xffnot json")) == "rejected"
    (_d, rejection), = rejections.dead
    assert rejection.reason == "invalid-event"
    assert rejection.as_dict()["errors"]
    assert not forwarder.forwarded


def test_routing_key_must_match_source_and_type() -> None:
    handler, _f, rejections = setup()
    handler.handle(delivery(body(event()), routing_key="kota-bandung.dpmptsp.case.completed"))
    assert rejections.dead[0][1].reason == "routing-key-mismatch"
    department, record = rejections.told[0]
    assert department == DepartmentRef("kota-bandung", "dpmptsp")
    assert record.rejection.reason == "routing-key-mismatch"


def test_user_must_be_the_sources_department() -> None:
    handler, _f, rejections = setup()
    ev = event(source="/kota-bandung/disdukcapil", service_code="ktp-el")
    handler.handle(delivery(body(ev), routing_key="kota-bandung.disdukcapil.case.submitted"))
    assert rejections.dead[0][1].reason == "forbidden"


def test_missing_user_id_is_refused_without_feedback() -> None:
    handler, _f, rejections = setup()
    handler.handle(delivery(body(event()), user=None))
    assert rejections.dead[0][1].reason == "unknown-sender"
    assert rejections.told == []


def test_trusted_operator_replay_is_validated_as_the_events_department() -> None:
    handler, forwarder, _r = setup()
    assert handler.handle(delivery(body(event()), user="pantau")) == "accepted"
    ev = event(service_code="ktp-el")  # still not dpmptsp's service
    assert handler.handle(delivery(body(ev), user="pantau")) == "rejected"
    assert len(forwarder.forwarded) == 1


def test_wrong_content_type_is_refused() -> None:
    handler, _f, rejections = setup()
    d = Delivery(body=b"<xml/>", exchange="pantau.ingress", routing_key=KEY, user_id=USER,
                 content_type="application/xml")
    assert handler.handle(d) == "rejected"
    assert rejections.dead[0][1].reason == "unsupported-content-type"


def test_rejection_reason_is_json_serialisable() -> None:
    handler, _f, rejections = setup()
    handler.handle(delivery(b"{}"))
    json.dumps(rejections.dead[0][1].as_dict())


def test_lone_surrogate_is_dead_lettered_naming_the_field_not_crashing() -> None:
    handler, forwarder, rejections = setup()
    ev = event()
    raw = body(ev).replace(ev["id"].encode(), b"\\ud800", 1)
    assert b"\\ud800" in raw
    assert handler.handle(delivery(raw)) == "rejected"
    (_d, rejection), = rejections.dead
    assert rejection.reason == "invalid-event"
    assert [e.field for e in rejection.errors] == ["id"]
    json.dumps(rejection.as_dict()).encode("utf-8")  # the reason header is encodable
    (_dept, record), = rejections.told
    assert record.event_id == "m1"  # the message id, not the unencodable event id
    assert not forwarder.forwarded
    handler.handle(delivery(b'{"data":{"\\udfff":1}}'))
    assert rejections.dead[1][1].errors[0].field == 'data["\\udfff"]'
