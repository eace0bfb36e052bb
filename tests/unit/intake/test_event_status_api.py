"""``GET /v1/events/{id}`` and ``GET /v1/refusals`` in-process with fake readers: signed like
POST (v2 over GET and the empty body), own events only (another's is 404), problem+json."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_contracts.signing import sign, sign_request
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.http.app import create_app
from pantau_intake.service.event_status import EventStatusService
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import DPMPTSP, SECRETS, FakeDirectory, FakeKeys, RecordingForwarder
from tests.unit.intake.test_http_app import assert_problem

T0 = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)


class Readers:
    def __init__(self) -> None:
        self.accepted = {("/kota-bandung/dpmptsp", "e-accepted"): T0,
                         ("/kota-bandung/dpmptsp", "e-refused"): T0}
        self.rows = [
            {"id": 3, "event_key": "", "event_id": "e-refused", "source": "/kota-bandung/dpmptsp",
             "event_type": "case.resumed", "receipt_number": "BDG-PBG-1", "outcome": "refused",
             "stage": "tracking", "reason": "stage-order", "detail": "not returned",
             "revision": None, "decided_at": T0.replace(tzinfo=None), "dept": DPMPTSP},
            {"id": 5, "event_key": "", "event_id": "e-applied", "source": "/kota-bandung/dpmptsp",
             "event_type": "case.submitted", "receipt_number": "BDG-PBG-2", "outcome": "applied",
             "stage": None, "reason": None, "detail": None, "revision": 1, "decided_at": T0,
             "dept": DPMPTSP},
            {"id": 7, "event_key": "", "event_id": "e-theirs", "source": "/kota-bandung/dinkes",
             "event_type": "case.resumed", "receipt_number": "BDG-KES-1", "outcome": "refused",
             "stage": "tracking", "reason": "stage-order", "detail": "x", "revision": None,
             "decided_at": T0, "dept": DepartmentRef("kota-bandung", "dinkes")}]

    def outcome(self, department: DepartmentRef, event_id: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["dept"] == department
                     and r["event_id"] == event_id), None)

    def refusals(self, department: DepartmentRef, after: int,
                 limit: int) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["dept"] == department and r["outcome"] == "refused"
                and r["id"] > after][:limit]

    def accepted_at(self, source: str, event_id: str) -> datetime | None:
        return self.accepted.get((source, event_id))


@pytest.fixture
def client() -> TestClient:
    readers = Readers()
    return TestClient(create_app(IntakeSettings(), keys=FakeKeys(), directory=FakeDirectory(),
                                 forwarder=RecordingForwarder(),
                                 status=EventStatusService(readers, readers)))


def get(client: TestClient, target: str, key: str = "k-dpmptsp") -> Any:
    auth = sign_request(SECRETS[key], b"", key_id=key, method="GET", target=target)
    return client.get(target, headers=auth)


def test_an_events_fate_accepted_applied_refused(client: TestClient) -> None:
    accepted = get(client, "/v1/events/e-accepted").json()
    assert accepted == {"id": "e-accepted", "source": "/kota-bandung/dpmptsp",
                        "status": "accepted", "accepted_at": "2026-03-02T01:15:00+00:00"}
    refused = get(client, "/v1/events/e-refused").json()
    assert (refused["status"], refused["reason"], refused["detail"]) == (
        "refused", "stage-order", "not returned")
    assert refused["refused_at"] == "2026-03-02T01:15:00+00:00"  # naive UTC from SQLite
    applied = get(client, "/v1/events/e-applied").json()
    assert (applied["status"], applied["revision"], applied["accepted_at"]) == (
        "applied", 1, None)


def test_another_departments_event_is_404_like_an_unknown_one(client: TestClient) -> None:
    theirs = assert_problem(get(client, "/v1/events/e-theirs"), 404)
    unknown = assert_problem(get(client, "/v1/events/nope"), 404)
    assert theirs["type"] == unknown["type"] and "e-theirs" in theirs["detail"]
    assert get(client, "/v1/events/e-refused", key="k-disdukcapil").status_code == 404


def test_refusals_after_a_cursor_with_next(client: TestClient) -> None:
    page = get(client, "/v1/refusals?after=0&limit=10").json()
    assert [r["id"] for r in page["refusals"]] == ["e-refused"] and page["next"] == 3
    assert get(client, "/v1/refusals?after=3").json() == {"refusals": [], "next": 3}
    assert_problem(get(client, "/v1/refusals?after=-1"), 400)


def test_unsigned_wrongly_signed_and_v1_requests_are_refused(client: TestClient) -> None:
    assert_problem(client.get("/v1/events/e-accepted"), 401)
    signed_other = sign_request(SECRETS["k-dpmptsp"], b"", key_id="k-dpmptsp", method="GET",
                                target="/v1/events/e-refused")
    assert_problem(client.get("/v1/events/e-accepted", headers=signed_other), 401)
    as_post = sign_request(SECRETS["k-dpmptsp"], b"", key_id="k-dpmptsp",
                           target="/v1/events/e-accepted")
    assert_problem(client.get("/v1/events/e-accepted", headers=as_post), 401)
    v1 = sign(SECRETS["k-dpmptsp"], b"", key_id="k-dpmptsp")
    assert_problem(client.get("/v1/events/e-accepted", headers=v1), 401)


def test_a_signed_get_is_accepted_once(client: TestClient) -> None:
    auth = sign_request(SECRETS["k-dpmptsp"], b"", key_id="k-dpmptsp", method="GET",
                        target="/v1/events/e-accepted")
    assert client.get("/v1/events/e-accepted", headers=auth).status_code == 200
    assert_problem(client.get("/v1/events/e-accepted", headers=auth), 409)


def test_the_openapi_document_has_both_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/events/{event_id}"]["get"]["responses"]) >= {"200", "401", "404"}
    assert "next" in str(paths["/v1/refusals"]["get"]["responses"]["200"])
