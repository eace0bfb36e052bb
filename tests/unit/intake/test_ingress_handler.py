from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.idempotency import RecentEvents
from pantau_intake.domain.messages import ReceivedMessage, Refusal, RefusalRecord
from pantau_intake.service.acceptance import ForwardError
from pantau_intake.service.ingress import IngressBatch, IngressHandler
from tests.unit.intake.fakes import (
    RECEIVED_AT,
    FakeDirectory,
    FixedClock,
    RecordingForwarder,
    body,
    event,
)

KEY = "kota-bandung.dpmptsp.case.submitted"
USER = "dept.kota-bandung.dpmptsp"


class RecordingRejections:
    """The refusals' fates: ``dead`` as the shared consumer would dead-letter them (what the
    batch returned by index), ``told`` as ``IngressHandler.tell`` reported them."""

    def __init__(self) -> None:
        self.dead: list[tuple[ReceivedMessage, Refusal]] = []
        self.told: list[tuple[DepartmentRef, RefusalRecord]] = []

    def feedback(self, department: DepartmentRef, records: Sequence[RefusalRecord]) -> None:
        self.told.extend((department, record) for record in records)


class Settling:
    """The handler as the batch consumer drives it: one batch, its refusals dead-lettered (here:
    recorded), then ``tell``. ``handle(message)`` is a batch of one; ``batch`` takes several."""

    def __init__(self, handler: IngressHandler, rejections: RecordingRejections) -> None:
        self.handler = handler
        self._rejections = rejections

    def batch(self, messages: list[ReceivedMessage]) -> IngressBatch:
        result = self.handler.handle(messages)
        for index, refused in sorted(result.refused.items()):
            self._rejections.dead.append((messages[index], refused.refusal))
        self.handler.tell(result)
        return result

    def handle(self, message: ReceivedMessage) -> str:
        return self.batch([message]).outcomes[0]

    def refusal(self, message: ReceivedMessage) -> Refusal | None:
        return self.handler.refusal(message)


def setup(clock: FixedClock | None = None,
          **options: Any) -> tuple[Settling, RecordingForwarder, RecordingRejections]:
    forwarder, rejections = RecordingForwarder(), RecordingRejections()
    handler = IngressHandler(FakeDirectory(), forwarder, rejections, trusted_users=["pantau"],
                             clock=clock or FixedClock(), **options)
    return Settling(handler, rejections), forwarder, rejections


def delivery(raw: bytes, routing_key: str = KEY, user: str | None = USER,
             **extra: Any) -> ReceivedMessage:
    return ReceivedMessage(body=raw, exchange="pantau.ingress", routing_key=routing_key,
                           user_id=user, content_type="application/cloudevents+json",
                           message_id="m1", **extra)


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
    assert handler.handle(delivery(body(ev))) == "refused"
    assert rejections.dead[0][1].reason == "event-id-conflict"
    assert len(forwarder.forwarded) == 1


def test_invalid_json_is_dead_lettered_with_errors() -> None:
    handler, forwarder, rejections = setup()
    assert handler.handle(delivery(b"\xffnot json")) == "refused"
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
    assert record.refusal.reason == "routing-key-mismatch"


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


def replay(raw: bytes, replay_as: str | None, **extra: Any) -> ReceivedMessage:
    headers = {"x-pantau-replay-as": replay_as} if replay_as is not None else {}
    return delivery(raw, user="pantau", headers=headers, **extra)


def test_trusted_operator_replay_acts_as_the_named_department_user() -> None:
    handler, forwarder, _r = setup()
    assert handler.handle(replay(body(event()), USER)) == "accepted"
    ev = event(service_code="ktp-el")  # still not dpmptsp's service
    assert handler.handle(replay(body(ev), USER)) == "refused"
    assert len(forwarder.forwarded) == 1


def test_operator_replay_cannot_launder_another_departments_event() -> None:
    # the confused deputy of issue 14: Dishub's message naming DPMPTSP, replayed by the operator
    handler, forwarder, rejections = setup()
    assert handler.handle(replay(body(event()), "dept.kota-bandung.dishub")) == "refused"
    assert rejections.dead[0][1].reason == "forbidden"
    assert rejections.told[0][0] == DepartmentRef("kota-bandung", "dishub")
    assert forwarder.forwarded == []


def test_operator_replay_without_a_department_user_is_refused() -> None:
    handler, forwarder, rejections = setup()
    for named in (None, "pantau", "dept.nonsense"):
        assert handler.handle(replay(body(event()), named)) == "refused"
    assert {r.reason for _d, r in rejections.dead} == {"unknown-sender"}
    assert forwarder.forwarded == []


def test_replay_as_header_from_a_department_is_ignored() -> None:
    handler, forwarder, rejections = setup()
    d = delivery(body(event()), user="dept.kota-bandung.dishub",
                 headers={"x-pantau-replay-as": USER})
    assert handler.handle(d) == "refused"
    assert rejections.dead[0][1].reason == "forbidden"
    assert forwarder.forwarded == []


def test_refusal_checks_without_side_effects() -> None:
    handler, forwarder, rejections = setup()
    assert handler.refusal(delivery(body(event()))) is None
    refused = handler.refusal(delivery(body(event()), user="dept.kota-bandung.dishub"))
    assert refused is not None and refused.reason == "forbidden"
    assert forwarder.forwarded == [] and rejections.dead == [] and rejections.told == []


def test_wrong_content_type_is_refused() -> None:
    handler, _f, rejections = setup()
    d = ReceivedMessage(body=b"<xml/>", exchange="pantau.ingress", routing_key=KEY, user_id=USER,
                        content_type="application/xml")
    assert handler.handle(d) == "refused"
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
    assert handler.handle(delivery(raw)) == "refused"
    (_d, rejection), = rejections.dead
    assert rejection.reason == "invalid-event"
    assert [e.field for e in rejection.errors] == ["id"]
    json.dumps(rejection.as_dict()).encode("utf-8")  # the reason header is encodable
    (_dept, record), = rejections.told
    assert record.event_id == "m1"  # the message id, not the unencodable event id
    assert not forwarder.forwarded
    handler.handle(delivery(b'{"data":{"\\udfff":1}}'))
    assert rejections.dead[1][1].errors[0].field == 'data["\\udfff"]'


# --- two clocks and receipt ownership ------------------------------------------------------------

STAMP = "2026-03-02T01:15:00.000000Z"  # RECEIVED_AT as intake writes pantaureceived


def test_forwarded_event_is_stamped_with_the_time_the_ingress_took_it() -> None:
    handler, forwarder, _r = setup()
    ev = event()
    assert handler.handle(delivery(body(ev))) == "accepted"
    (forwarded,) = forwarder.forwarded
    assert json.loads(forwarded.raw) == {**ev, "pantaureceived": STAMP}
    assert forwarded.received == RECEIVED_AT


def test_a_retry_taken_later_is_still_a_duplicate() -> None:
    clock = FixedClock()
    handler, forwarder, rejections = setup(clock)
    ev = event()
    assert handler.handle(delivery(body(ev))) == "accepted"
    clock.now = RECEIVED_AT + timedelta(hours=1)
    assert handler.handle(delivery(body(ev))) == "duplicate"
    assert len(forwarder.forwarded) == 1 and not rejections.dead


def test_a_sender_setting_pantaureceived_is_dead_lettered_and_told() -> None:
    handler, forwarder, rejections = setup()
    ev = {**event(), "pantaureceived": STAMP}
    assert handler.handle(delivery(body(ev))) == "refused"
    (_d, rejection), = rejections.dead
    assert rejection.reason == "invalid-event"
    assert [e.field for e in rejection.errors] == ["pantaureceived"]
    (department, record), = rejections.told
    assert department == DepartmentRef("kota-bandung", "dpmptsp")
    assert record.event_id == ev["id"] and record.refusal.reason == "invalid-event"
    assert record.refused_at == RECEIVED_AT
    assert not forwarder.forwarded


def test_an_operator_replay_carrying_pantaureceived_is_refused_too() -> None:
    # a letter dead-lettered by the ingress is the department's message as sent: never stamped
    handler, forwarder, rejections = setup()
    ev = {**event(), "pantaureceived": STAMP}
    assert handler.handle(replay(body(ev), USER)) == "refused"
    assert rejections.dead[0][1].reason == "invalid-event"
    assert [d for d, _r in rejections.told] == [DepartmentRef("kota-bandung", "dpmptsp")]
    plain = event()
    assert handler.handle(replay(body(plain), USER)) == "accepted"
    assert json.loads(forwarder.forwarded[0].raw)["pantaureceived"] == STAMP


def test_a_future_time_is_dead_lettered_naming_time() -> None:
    handler, forwarder, rejections = setup(max_future_skew=60)
    ok = event(time=RECEIVED_AT + timedelta(seconds=60))
    assert handler.handle(delivery(body(ok))) == "accepted"
    ev = event(time=RECEIVED_AT + timedelta(seconds=61))
    assert handler.handle(delivery(body(ev))) == "refused"
    (_d, rejection), = rejections.dead
    assert rejection.reason == "invalid-event"
    (error,) = rejection.errors
    assert error.field == "time"
    assert error.expected == "not later than the server's time plus 60 s"
    (_dept, record), = rejections.told
    assert record.event_id == ev["id"] and record.receipt_number == "BDG-PBG-2026-000001"
    assert [e.id for e in forwarder.forwarded] == [ok["id"]]


def test_another_departments_receipt_is_forbidden() -> None:
    handler, forwarder, rejections = setup()
    squat = event(receipt_number="BDG-KE-2026-000777")
    assert handler.handle(delivery(body(squat))) == "refused"
    (_d, rejection), = rejections.dead
    assert rejection.reason == "forbidden"
    (error,) = rejection.errors
    assert error.field == "data.receipt_number"
    assert error.expected == "a receipt number starting with one of: BDG-PBG-, BDG-SLF-"
    (_dept, record), = rejections.told
    assert record.refusal.reason == "forbidden"
    # an operator replay acts as the event's department: the same rule applies
    assert handler.handle(delivery(body(event(receipt_number="BDG-KE-2026-000778")),
                                   user="pantau")) == "refused"
    assert not forwarder.forwarded


class CountingForwarder(RecordingForwarder):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, events: Any) -> None:
        self.calls += 1
        super().forward(events)


class CountingMemory:
    """The accepted-events memory, counting lookups and writes (one each per batch)."""

    def __init__(self) -> None:
        self.inner, self.finds, self.records = RecentEvents(), 0, 0

    def find(self, keys: Any) -> Any:
        self.finds += 1
        return self.inner.find(keys)

    def record(self, records: Any) -> None:
        self.records += 1
        self.inner.record(records)


def test_a_batch_is_one_lookup_one_forward_and_one_write_in_order() -> None:
    forwarder, memory, rejections = CountingForwarder(), CountingMemory(), RecordingRejections()
    handler = IngressHandler(FakeDirectory(), forwarder, rejections, accepted=memory,
                             clock=FixedClock())
    events = [event(id=f"e{i}") for i in range(5)]
    result = handler.handle([delivery(body(ev)) for ev in events])
    assert result.outcomes == ("accepted",) * 5 and not result.refused
    assert (forwarder.calls, memory.finds, memory.records) == (1, 1, 1)
    assert [ev.id for ev in forwarder.forwarded] == [f"e{i}" for i in range(5)]
    assert all(ev.received == RECEIVED_AT for ev in forwarder.forwarded)


def test_a_refusal_in_the_middle_of_a_batch_holds_up_nobody_and_is_told_only_by_tell() -> None:
    forwarder, rejections = RecordingForwarder(), RecordingRejections()
    handler = IngressHandler(FakeDirectory(), forwarder, rejections, clock=FixedClock())
    messages = [delivery(body(event(id="a"))), delivery(b"{not json"),
                delivery(body(event(id="c")), user=None)]
    result = handler.handle(messages)
    assert result.outcomes == ("accepted", "refused", "refused")
    assert set(result.dead_letter_reasons()) == {1, 2}
    assert result.dead_letter_reasons()[1]["reason"] == "invalid-event"
    assert result.counts() == {"accepted": 1, "duplicate": 0, "refused": 2}
    assert [ev.id for ev in forwarder.forwarded] == ["a"]
    assert not rejections.told  # nothing is told before the dead letters are out
    handler.tell(result)
    # the anonymous one (no department user) has nobody to tell
    assert [(d.department, r.refusal.reason) for d, r in rejections.told] == [
        ("dpmptsp", "invalid-event")]


def test_within_a_batch_a_retry_is_a_duplicate_and_other_content_a_conflict() -> None:
    forwarder = RecordingForwarder()
    handler = IngressHandler(FakeDirectory(), forwarder, RecordingRejections(),
                             clock=FixedClock())
    ev = event(id="same")
    changed = event(id="same", kecamatan="Coblong")
    result = handler.handle([delivery(body(ev)), delivery(body(ev)), delivery(body(changed))])
    assert result.outcomes == ("accepted", "duplicate", "refused")
    assert result.refused[2].refusal.reason == "event-id-conflict"
    assert len(forwarder.forwarded) == 1


def test_a_broker_failure_raises_and_nothing_is_remembered() -> None:
    forwarder, memory = RecordingForwarder(), CountingMemory()
    forwarder.fail = True
    handler = IngressHandler(FakeDirectory(), forwarder, RecordingRejections(), accepted=memory,
                             clock=FixedClock())
    with pytest.raises(ForwardError):
        handler.handle([delivery(body(event(id="x")))])
    assert memory.records == 0
    forwarder.fail = False  # handed over again: forwarded now
    assert handler.handle([delivery(body(event(id="x")))]).outcomes == ("accepted",)


def test_a_message_nested_too_deeply_is_refused_alone_and_the_batch_goes_through() -> None:
    """One department's crafted body (100 KB of "[") must not fail the batch it shares with
    other departments' events (a failed batch is retried, then dead-lettered whole)."""
    forwarder, rejections = RecordingForwarder(), RecordingRejections()
    handler = IngressHandler(FakeDirectory(), forwarder, rejections, clock=FixedClock())
    result = handler.handle([delivery(body(event(id="a"))), delivery(b"[" * 100_000),
                             delivery(body(event(id="c")))])
    assert result.outcomes == ("accepted", "refused", "accepted")
    assert result.dead_letter_reasons()[1]["reason"] == "invalid-event"
    assert [ev.id for ev in forwarder.forwarded] == ["a", "c"]


def test_a_check_that_raises_refuses_only_its_own_message() -> None:
    class Exploding(FakeDirectory):
        def owns_receipt(self, jurisdiction: str, department: str, receipt: str) -> bool:
            if receipt.endswith("666"):
                raise RuntimeError("boom")
            return super().owns_receipt(jurisdiction, department, receipt)

    forwarder = RecordingForwarder()
    handler = IngressHandler(Exploding(), forwarder, RecordingRejections(), clock=FixedClock())
    result = handler.handle([delivery(body(event(id="a"))),
                             delivery(body(event(id="b", receipt_number="BDG-PBG-2026-000666")))])
    assert result.outcomes == ("accepted", "refused")
    assert "RuntimeError" in result.dead_letter_reasons()[1]["detail"]
    assert [ev.id for ev in forwarder.forwarded] == ["a"]


class CountingMetrics:
    def __init__(self) -> None:
        self.counted: list[tuple[str, str | None]] = []

    def received(self, event_type: str | None, *_labels: Any) -> None:
        self.counted.append(("received", event_type))

    def accepted(self, event_type: str | None, *_labels: Any) -> None:
        self.counted.append(("accepted", event_type))

    def refused(self, event_type: str | None, *_labels: Any) -> None:
        self.counted.append(("refused", event_type))


def test_a_held_batch_is_counted_once_when_it_goes_through() -> None:
    """The broker is away: the batch is held (nothing counted) and handled again later —
    counted then, once, not once per attempt."""
    metrics = CountingMetrics()
    handler, forwarder, _r = setup(metrics=metrics)
    batch = [delivery(body(event())), delivery(b"\xffnot json")]
    forwarder.fail = True
    with pytest.raises(ForwardError):
        handler.batch(batch)
    assert metrics.counted == []
    forwarder.fail = False
    handler.batch(batch)
    assert sorted(metrics.counted, key=str) == sorted([
        ("received", "case.submitted"), ("received", None), ("refused", None),
        ("accepted", "case.submitted")], key=str)
