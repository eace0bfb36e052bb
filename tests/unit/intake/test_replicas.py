"""Several intake replicas sharing the replay check and the accepted-events memory (fakes at the
ports: in-memory ledgers shared by two apps/services), and what happens when that store fails."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_contracts import validate_event
from pantau_contracts.signing import sign
from pantau_intake.domain.idempotency import AcceptedRecord, EventKey, RecentEvents
from pantau_intake.domain.messages import ReceivedMessage
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.http.app import create_app
from pantau_intake.service.acceptance import AcceptanceService
from pantau_intake.service.authentication import SeenSignatures
from pantau_intake.service.ingress import IngressHandler
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import (
    DPMPTSP,
    SECRETS,
    FakeDirectory,
    FakeKeys,
    RecordingForwarder,
    body,
    event,
)
from tests.unit.intake.test_ingress_handler import RecordingRejections

STRUCTURED = "application/cloudevents+json"


class BrokenLedger:
    """A store that is down: every call raises (or only ``record``, with ``reads_ok``)."""

    def __init__(self, reads_ok: bool = False) -> None:
        self.reads_ok = reads_ok
        self.inner = RecentEvents()

    def remember(self, key_id: str, digest: str, now: float) -> bool:
        raise StoreUnavailable("fake: database down")

    def find(self, keys: Collection[EventKey]) -> dict[EventKey, AcceptedRecord]:
        if self.reads_ok:
            return self.inner.find(keys)
        raise StoreUnavailable("fake: database down")

    def record(self, records: Mapping[EventKey, AcceptedRecord]) -> None:
        raise StoreUnavailable("fake: database down")


def app(forwarder: RecordingForwarder, **ports: Any) -> TestClient:
    return TestClient(create_app(IntakeSettings(), keys=FakeKeys(), directory=FakeDirectory(),
                                 forwarder=forwarder, **ports))


def signed(raw: bytes) -> dict[str, str]:
    return {**sign(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp"), "Content-Type": STRUCTURED}


def two_replicas() -> tuple[TestClient, TestClient, RecordingForwarder]:
    seen, accepted, forwarder = SeenSignatures(300.0), RecentEvents(), RecordingForwarder()
    return (app(forwarder, seen=seen, accepted=accepted),
            app(forwarder, seen=seen, accepted=accepted), forwarder)


def test_shared_ledgers_refuse_a_replay_and_answer_a_retry_on_the_other_replica() -> None:
    a, b, forwarder = two_replicas()
    raw = body(event())
    headers = signed(raw)
    assert a.post("/v1/events", content=raw, headers=headers).status_code == 202
    assert b.post("/v1/events", content=raw, headers=headers).status_code == 409  # replay
    retry = b.post("/v1/events", content=raw, headers=signed(raw))
    assert retry.status_code == 202
    assert len(forwarder.forwarded) == 1


def test_store_down_before_forwarding_is_503_and_nothing_is_forwarded() -> None:
    forwarder = RecordingForwarder()
    for ports in ({"seen": BrokenLedger()}, {"accepted": BrokenLedger()}):
        raw = body(event())
        response = app(forwarder, **ports).post("/v1/events", content=raw, headers=signed(raw))
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "database" in response.json()["detail"]
    assert forwarder.forwarded == []


def test_store_down_after_the_confirm_still_answers_202_and_a_retry_is_forwarded_again() -> None:
    # The documented trade-off: the broker confirmed, so the event IS accepted; without a record
    # the retry is forwarded once more and tracking's (source, id) dedup drops it.
    forwarder = RecordingForwarder()
    client = app(forwarder, accepted=BrokenLedger(reads_ok=True))
    raw = body(event())
    assert client.post("/v1/events", content=raw, headers=signed(raw)).status_code == 202
    assert client.post("/v1/events", content=raw, headers=signed(raw)).status_code == 202
    assert len(forwarder.forwarded) == 2


def test_ingress_acks_a_forwarded_event_even_if_it_cannot_be_recorded() -> None:
    forwarder = RecordingForwarder()
    handler = IngressHandler(FakeDirectory(), forwarder, RecordingRejections(),
                             accepted=BrokenLedger(reads_ok=True))
    delivery = ReceivedMessage(body=body(event()), exchange="pantau.ingress",
                               routing_key="kota-bandung.dpmptsp.case.submitted",
                               user_id="dept.kota-bandung.dpmptsp",
                               content_type=STRUCTURED, message_id="m1")
    assert handler.handle([delivery]).outcomes == ("accepted",)
    assert len(forwarder.forwarded) == 1


def test_the_remembered_answer_is_the_answer_given_to_a_retry() -> None:
    accepted, forwarder = RecentEvents(), RecordingForwarder()
    ev = validate_event(body(event()))
    service = AcceptanceService(FakeDirectory(), forwarder, accepted)
    assert service.accept(DPMPTSP, [ev]).forwarded == 1
    record = accepted.find([ev.dedup_key])[ev.dedup_key]
    assert record.answer == "accepted"
    again = service.accept(DPMPTSP, [ev])
    assert again.accepted and again.forwarded == 0 and again.results[0].status == "accepted"


IDS = ["e1", "e2", "e3"]


VARIANTS = ["Coblong", "Cicendo", "Sukajadi"]  # three contents for one id


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from(IDS), st.integers(0, 2)),
                min_size=1, max_size=12))
def test_replicas_forward_each_event_once_with_its_first_content(
        attempts: list[tuple[int, str, int]]) -> None:
    """Whatever replica a request reaches, the first content sent for an id is forwarded once;
    that content again is 202 without a forward; any other content for that id is 409."""
    accepted, forwarder = RecentEvents(), RecordingForwarder()
    services = [AcceptanceService(FakeDirectory(), forwarder, accepted) for _ in range(2)]
    first: dict[str, int] = {}
    for replica, event_id, variant in attempts:
        raw = event(id=event_id, kecamatan=VARIANTS[variant])
        raw["time"] = "2026-01-05T03:00:00+00:00"
        outcome = services[replica].accept(DPMPTSP, [validate_event(json.dumps(raw).encode())])
        expected = first.setdefault(event_id, variant)
        assert outcome.accepted is (variant == expected)
        assert outcome.status == (202 if variant == expected else 409)
    forwarded = [e.id for e in forwarder.forwarded]
    assert sorted(forwarded) == sorted(first)
    for e in forwarder.forwarded:
        assert json.loads(e.raw)["data"]["kecamatan"] == VARIANTS[first[e.id]]


def test_key_store_down_is_503_not_a_crash() -> None:
    class DownKeys:
        def resolve(self, key_id: str) -> Any:
            raise StoreUnavailable("fake: database down")

    forwarder = RecordingForwarder()
    client = TestClient(create_app(IntakeSettings(), keys=DownKeys(), directory=FakeDirectory(),
                                   forwarder=forwarder))
    raw = body(event())
    response = client.post("/v1/events", content=raw, headers=signed(raw))
    assert response.status_code == 503
    assert forwarder.forwarded == []
