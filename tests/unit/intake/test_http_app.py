"""The HTTP API in-process with fakes at its ports: modes, problems, idempotency, limits."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_contracts.signing import sign, sign_request
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import (
    RECEIVED_AT,
    SECRETS,
    FakeDirectory,
    FakeKeys,
    FixedClock,
    RecordingForwarder,
    body,
    event,
)

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


@pytest.fixture
def forwarder() -> RecordingForwarder:
    return RecordingForwarder()


STAMP = "2026-03-02T01:15:00.000000Z"  # RECEIVED_AT as intake writes pantaureceived


def make_client(forwarder: RecordingForwarder, clock: FixedClock | None = None,
                **settings: Any) -> TestClient:
    app = create_app(IntakeSettings(**settings), keys=FakeKeys(), directory=FakeDirectory(),
                     forwarder=forwarder, ready=lambda: not forwarder.fail,
                     received_clock=clock or FixedClock())
    return TestClient(app)


@pytest.fixture
def client(forwarder: RecordingForwarder) -> TestClient:
    return make_client(forwarder)


def post(client: TestClient, raw: bytes, content_type: str = STRUCTURED,
         key: str = "k-dpmptsp", extra: dict[str, str] | None = None) -> Any:
    headers = {"Content-Type": content_type, **(extra or {})}
    auth = sign_request(SECRETS[key], raw, key_id=key, headers=headers)
    return client.post("/v1/events", content=raw, headers={**headers, **auth})


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem)
    assert problem["status"] == status
    for error in problem["errors"]:
        assert set(error) == {"field", "problem", "expected"}
    return problem


def test_structured_event_is_forwarded_as_sent_plus_the_received_stamp(
        client: TestClient, forwarder: RecordingForwarder) -> None:
    ev = event()
    raw = body(ev)
    response = post(client, raw)
    assert response.status_code == 202
    assert response.json() == {"id": ev["id"], "source": ev["source"], "status": "accepted"}
    (forwarded,) = forwarder.forwarded
    assert json.loads(forwarded.raw) == {**ev, "pantaureceived": STAMP}
    assert forwarded.received == RECEIVED_AT


def test_retry_gets_same_answer_and_forwards_nothing_new(client: TestClient,
                                                         forwarder: RecordingForwarder) -> None:
    raw = body(event())
    first = post(client, raw)
    second = post(client, raw)  # re-signed: a legitimate retry
    assert first.json() == second.json()
    assert second.status_code == 202
    assert len(forwarder.forwarded) == 1


def test_same_id_with_other_content_is_409(client: TestClient) -> None:
    ev = event()
    post(client, body(ev))
    ev["data"]["kecamatan"] = "Coblong"
    problem = assert_problem(post(client, body(ev)), 409)
    assert problem["errors"][0]["field"] == "id"


def test_binary_mode(client: TestClient, forwarder: RecordingForwarder) -> None:
    ev = event("case.stage_started")
    headers = {"ce-specversion": "1.0", "ce-id": ev["id"], "ce-source": ev["source"],
               "ce-type": ev["type"], "ce-time": ev["time"], "ce-sequence": "2"}
    response = post(client, body(ev["data"]), "application/json", extra=headers)
    assert response.status_code == 202, response.text
    forwarded = json.loads(forwarder.forwarded[0].raw)
    assert forwarded["id"] == ev["id"] and forwarded["data"] == ev["data"]
    assert forwarder.forwarded[0].sequence == 2


def test_binary_mode_errors_name_the_header(client: TestClient) -> None:
    ev = event("case.stage_started")
    headers = {"ce-specversion": "1.0", "ce-id": ev["id"], "ce-source": ev["source"],
               "ce-type": ev["type"]}
    problem = assert_problem(post(client, body(ev["data"]), "application/json",
                                  extra=headers), 422)
    assert "ce-time" in [e["field"] for e in problem["errors"]]


def test_batch_is_accepted_with_per_event_results(client: TestClient,
                                                  forwarder: RecordingForwarder) -> None:
    events = [event(), event("case.stage_started")]
    response = post(client, body(events), BATCH)
    assert response.status_code == 202
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]
    assert [e.id for e in forwarder.forwarded] == [e["id"] for e in events]


def test_batch_with_one_bad_event_accepts_none(client: TestClient,
                                               forwarder: RecordingForwarder) -> None:
    bad = event()
    del bad["data"]["receipt_number"]
    problem = assert_problem(post(client, body([event(), bad]), BATCH), 422)
    assert [r["status"] for r in problem["results"]] == ["not-accepted", "rejected"]
    assert "[1].data.receipt_number" in [e["field"] for e in problem["errors"]]
    assert forwarder.forwarded == []


def test_batch_limits(forwarder: RecordingForwarder) -> None:
    client = make_client(forwarder, intake_max_batch_events=2)
    assert_problem(post(client, body([event(), event(), event()]), BATCH), 413)
    assert_problem(post(client, b"[]", BATCH), 400)
    assert_problem(post(client, b"{}", BATCH), 400)


def test_invalid_event_lists_every_problem(client: TestClient) -> None:
    ev = event()
    ev["data"] = {"service_code": "PBG!"}
    del ev["time"]
    problem = assert_problem(post(client, body(ev)), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert "time" in fields


def test_payload_errors_are_listed(client: TestClient) -> None:
    ev = event()
    ev["data"]["service_code"] = "PBG!"
    ev["data"]["unknown"] = 1
    problem = assert_problem(post(client, body(ev)), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert {"data.service_code", "data.unknown"} <= fields
    assert problem["event"]["id"] == ev["id"]


@pytest.mark.parametrize("raw,status", [
    (b"{not json", 400), (b"\xff\xfe{}", 400), (b'{"a": NaN}', 400), (b"", 400),
    (b"[" * 5000 + b"]" * 5000, 400)])
def test_malformed_bodies_are_400(client: TestClient, raw: bytes, status: int) -> None:
    assert_problem(post(client, raw), status)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/cloudevents+json; charset=latin-1", ""])
def test_wrong_content_type_is_415(client: TestClient, content_type: str) -> None:
    assert_problem(post(client, body(event()), content_type), 415)


def test_other_department_source_is_403(client: TestClient) -> None:
    ev = event(source="/kota-bandung/disdukcapil", service_code="ktp-el")
    problem = assert_problem(post(client, body(ev)), 403)
    assert problem["errors"][0]["field"] == "source"


def test_service_of_other_department_is_403(client: TestClient) -> None:
    problem = assert_problem(post(client, body(event(service_code="ktp-el"))), 403)
    assert problem["errors"][0]["field"] == "data.service_code"


def test_unsigned_request_is_401(client: TestClient) -> None:
    response = client.post("/v1/events", content=body(event()),
                           headers={"Content-Type": STRUCTURED})
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_replayed_request_is_409(client: TestClient) -> None:
    raw = body(event())
    headers = {**sign(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp"),
               "Content-Type": STRUCTURED}
    assert client.post("/v1/events", content=raw, headers=headers).status_code == 202
    assert_problem(client.post("/v1/events", content=raw, headers=headers), 409)


def test_too_large_body_is_413(forwarder: RecordingForwarder) -> None:
    client = make_client(forwarder, intake_max_event_bytes=1024)
    ev = event(note="x" * 2000)
    assert_problem(post(client, body(ev)), 413)


def test_rate_limit_is_429_with_retry_after(forwarder: RecordingForwarder) -> None:
    client = make_client(forwarder, intake_rate_per_second=0.001, intake_rate_burst=2)
    assert post(client, body(event())).status_code == 202
    assert post(client, body(event())).status_code == 202
    response = post(client, body(event()))
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    # another department has its own bucket
    other = event(source="/kota-bandung/disdukcapil", service_code="ktp-el")
    assert post(client, body(other), key="k-disdukcapil").status_code == 202


def test_broker_failure_is_503_and_retry_succeeds(client: TestClient,
                                                  forwarder: RecordingForwarder) -> None:
    raw = body(event())
    forwarder.fail = True
    response = post(client, raw)
    assert_problem(response, 503)
    assert client.get("/readyz").status_code == 503
    forwarder.fail = False
    assert post(client, raw).status_code == 202
    assert len(forwarder.forwarded) == 1
    assert client.get("/readyz").status_code == 200


def test_health_and_unknown_routes(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert_problem(client.get("/v1/nope"), 404)
    assert_problem(client.get("/v1/events"), 405)


def test_openapi_documents_examples_auth_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/events"]["post"]
    examples = operation["requestBody"]["content"]["application/cloudevents+json"]["examples"]
    assert {"case.submitted", "case.stage_started", "case.returned", "case.resumed",
            "case.rejected", "case.completed", "case.withdrawn"} <= set(examples)
    assert {"401", "403", "409", "413", "415", "422", "429", "503"} <= set(operation["responses"])
    assert "X-Pantau-Signature" in spec["info"]["description"]
    assert "PantauSignature" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"id":"\\ud800"}', "id"),
    (b'{"\\udc00":"x","id":"1"}', '["\\udc00"]'),
    (b'{"specversion":"1.0","data":{"kecamatan":"Coblong\\udbff"}}', "data.kecamatan"),
])
def test_lone_surrogate_is_a_400_naming_the_field(client: TestClient, raw: bytes,
                                                  field: str) -> None:
    problem = assert_problem(post(client, raw), 400)
    assert problem["errors"][0]["field"] == field
    assert "surrogate" in problem["errors"][0]["problem"]


def test_lone_surrogate_in_a_batch_or_binary_data_is_a_400(client: TestClient) -> None:
    batch = b'[' + body(event()) + b',{"id":"\\ud800"}]'
    assert assert_problem(post(client, batch, BATCH), 400)["errors"][0]["field"] == "[1].id"
    ev = event()
    headers = {"ce-specversion": "1.0", "ce-id": ev["id"], "ce-source": ev["source"],
               "ce-type": ev["type"], "ce-time": ev["time"]}
    binary = b'{"receipt_number":"\\ud800"}'
    problem = assert_problem(post(client, binary, "application/json", extra=headers), 400)
    assert problem["errors"][0]["field"] == "receipt_number"


def test_surrogate_text_in_ce_headers_is_never_a_500(client: TestClient) -> None:
    ev = event()
    for value in ("%ED%A0%80", "\\ud800", "%ud800"):  # percent-encoded, JSON-escaped, junk
        headers = {"ce-specversion": "1.0", "ce-id": value, "ce-source": ev["source"],
                   "ce-type": ev["type"], "ce-time": ev["time"]}
        response = post(client, body(ev["data"]), "application/json", extra=headers)
        assert response.status_code < 500, response.text


# --- two clocks: pantaureceived stamped by intake, never by the sender ---------------------------


def test_a_retry_received_later_is_still_the_same_event(forwarder: RecordingForwarder) -> None:
    clock = FixedClock()
    client = make_client(forwarder, clock)
    ev = event()
    assert post(client, body(ev)).status_code == 202
    clock.now = RECEIVED_AT + timedelta(minutes=10)  # the digest ignores the stamp
    retry = post(client, body(ev))
    assert retry.status_code == 202 and retry.json()["status"] == "accepted"
    assert len(forwarder.forwarded) == 1
    assert forwarder.forwarded[0].received == RECEIVED_AT
    ev["data"]["kecamatan"] = "Coblong"
    assert_problem(post(client, body(ev)), 409)


def test_every_event_of_a_batch_and_binary_mode_is_stamped(client: TestClient,
                                                           forwarder: RecordingForwarder) -> None:
    assert post(client, body([event(), event("case.stage_started")]), BATCH).status_code == 202
    ev = event("case.stage_started")
    headers = {"ce-specversion": "1.0", "ce-id": ev["id"], "ce-source": ev["source"],
               "ce-type": ev["type"], "ce-time": ev["time"]}
    assert post(client, body(ev["data"]), "application/json", extra=headers).status_code == 202
    assert [json.loads(e.raw)["pantaureceived"] for e in forwarder.forwarded] == [STAMP] * 3
    assert {e.received for e in forwarder.forwarded} == {RECEIVED_AT}


def test_a_sender_setting_pantaureceived_is_422_naming_it(client: TestClient,
                                                          forwarder: RecordingForwarder) -> None:
    ev = {**event(), "pantaureceived": STAMP}
    problem = assert_problem(post(client, body(ev)), 422)
    assert [e["field"] for e in problem["errors"]] == ["pantaureceived"]
    assert problem["event"]["id"] == ev["id"]
    batch = assert_problem(post(client, body([event(), ev]), BATCH), 422)
    assert [r["status"] for r in batch["results"]] == ["not-accepted", "rejected"]
    assert [e["field"] for e in batch["errors"]] == ["[1].pantaureceived"]
    plain = event("case.stage_started")
    headers = {"ce-specversion": "1.0", "ce-id": plain["id"], "ce-source": plain["source"],
               "ce-type": plain["type"], "ce-time": plain["time"], "ce-pantaureceived": STAMP}
    binary = assert_problem(post(client, body(plain["data"]), "application/json",
                                 extra=headers), 422)
    assert [e["field"] for e in binary["errors"]] == ["ce-pantaureceived"]
    assert forwarder.forwarded == []


def test_a_time_later_than_received_plus_skew_is_422_naming_time(
        client: TestClient, forwarder: RecordingForwarder) -> None:
    at_limit = event(time=RECEIVED_AT + timedelta(seconds=300))
    assert post(client, body(at_limit)).status_code == 202
    ev = event(time=RECEIVED_AT + timedelta(seconds=301))
    problem = assert_problem(post(client, body(ev)), 422)
    (error,) = problem["errors"]
    assert error["field"] == "time"
    assert error["expected"] == "not later than the server's time plus 300 s"
    assert problem["event"]["id"] == ev["id"]
    batch = assert_problem(post(client, body([event(), ev]), BATCH), 422)
    assert [e["field"] for e in batch["errors"]] == ["time"]
    assert [e.id for e in forwarder.forwarded] == [at_limit["id"]]


def test_the_future_skew_is_a_setting(forwarder: RecordingForwarder,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_INTAKE_MAX_FUTURE_SKEW_SECONDS", "60")
    assert IntakeSettings().intake_max_future_skew_seconds == 60
    client = make_client(forwarder, intake_max_future_skew_seconds=60)
    problem = assert_problem(post(client, body(event(time=RECEIVED_AT + timedelta(seconds=61)))),
                             422)
    assert problem["errors"][0]["expected"] == "not later than the server's time plus 60 s"
    assert IntakeSettings(intake_max_future_skew_seconds=300).intake_max_future_skew_seconds == 300


def test_another_departments_receipt_is_403_naming_it(client: TestClient,
                                                      forwarder: RecordingForwarder) -> None:
    squat = event(receipt_number="BDG-KE-2026-000777")  # disdukcapil's prefix, dpmptsp's key
    problem = assert_problem(post(client, body(squat)), 403)
    (error,) = problem["errors"]
    assert error["field"] == "data.receipt_number"
    assert error["expected"] == "a receipt number starting with one of: BDG-PBG-, BDG-SLF-"
    touch = event("case.stage_started", receipt_number="XYZ-2026-000001")
    assert_problem(post(client, body(touch)), 403)
    assert forwarder.forwarded == []


def test_readyz_names_what_it_is_waiting_for(forwarder: RecordingForwarder) -> None:
    database = {"up": True}
    app = create_app(IntakeSettings(), keys=FakeKeys(), directory=FakeDirectory(),
                     forwarder=forwarder, ready=lambda: not forwarder.fail,
                     database_ready=lambda: database["up"], received_clock=FixedClock())
    with TestClient(app) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        forwarder.fail = True
        response = client.get("/readyz")
        assert_problem(response, 503)
        assert response.json()["detail"] == "degraded: waiting for broker"
        assert response.json()["waiting_for"] == ["broker"]
        database["up"] = False
        response = client.get("/readyz")
        assert response.json()["detail"] == "degraded: waiting for broker, database"
        forwarder.fail = False
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json()["waiting_for"] == ["database"]
        assert response.headers["Retry-After"] == "5"
        database["up"] = True
        assert client.get("/readyz").status_code == 200


# --- signature schemes: v2 everywhere, v1 deprecated and never for binary mode -------------------


def binary_headers(ev: dict[str, Any]) -> dict[str, str]:
    return {"ce-specversion": "1.0", "ce-id": ev["id"], "ce-source": ev["source"],
            "ce-type": ev["type"], "ce-time": ev["time"]}


def test_v2_is_answered_without_deprecation(client: TestClient) -> None:
    response = post(client, body(event()))
    assert response.status_code == 202, response.text
    assert "Deprecation" not in response.headers


def test_v1_structured_is_accepted_with_a_deprecation_header(client: TestClient) -> None:
    raw = body(event())
    headers = {**sign(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp"), "Content-Type": STRUCTURED}
    response = client.post("/v1/events", content=raw, headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["Deprecation"].startswith("@")
    # a refusal after authentication carries it too
    bad = body(event(source="/kota-bandung/disdukcapil"))
    headers = {**sign(SECRETS["k-dpmptsp"], bad, key_id="k-dpmptsp"), "Content-Type": STRUCTURED}
    refused = client.post("/v1/events", content=bad, headers=headers)
    assert_problem(refused, 403)
    assert "Deprecation" in refused.headers


def test_v1_in_binary_mode_is_401_saying_to_use_v2(client: TestClient,
                                                   forwarder: RecordingForwarder) -> None:
    ev = event()
    raw = body(ev["data"])
    headers = {**binary_headers(ev), **sign(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp"),
               "Content-Type": "application/json"}
    problem = assert_problem(client.post("/v1/events", content=raw, headers=headers), 401)
    assert "v2" in problem["detail"]
    assert forwarder.forwarded == []


def test_binary_attributes_are_covered_by_v2(client: TestClient,
                                             forwarder: RecordingForwarder) -> None:
    ev = event()
    raw = body(ev["data"])
    headers = {**binary_headers(ev), "Content-Type": "application/json"}
    signed = {**headers, **sign_request(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp",
                                        headers=headers)}
    signed["ce-type"] = "case.withdrawn"  # an attribute changed on the way
    assert_problem(client.post("/v1/events", content=raw, headers=signed), 401)
    assert forwarder.forwarded == []


def test_v1_can_be_switched_off(forwarder: RecordingForwarder) -> None:
    client = make_client(forwarder, intake_accept_v1_signatures=False)
    raw = body(event())
    headers = {**sign(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp"), "Content-Type": STRUCTURED}
    assert "v2" in assert_problem(client.post("/v1/events", content=raw, headers=headers),
                                  401)["detail"]
    assert post(client, raw).status_code == 202


@pytest.mark.parametrize("name", ["X-Pantau-Signature", "X-Pantau-Key", "X-Pantau-Timestamp"])
def test_non_ascii_auth_header_is_a_401_problem_not_a_500(client: TestClient, name: str) -> None:
    raw = body(event())
    headers: dict[str, Any] = {"Content-Type": STRUCTURED}
    headers.update(sign_request(SECRETS["k-dpmptsp"], raw, key_id="k-dpmptsp", headers=headers))
    headers[name] = (headers[name] + "é").encode("utf-8")  # raw bytes beyond ASCII
    assert_problem(client.post("/v1/events", content=raw, headers=headers), 401)


def test_declared_size_is_refused_before_authentication(forwarder: RecordingForwarder) -> None:
    client = make_client(forwarder, intake_max_event_bytes=1024)
    response = client.post("/v1/events", content=b"x" * 2000,
                           headers={"Content-Type": STRUCTURED})
    assert_problem(response, 413)


def test_a_request_runs_under_one_unrecorded_span_when_nothing_exports(
        forwarder: RecordingForwarder) -> None:
    """Exporting nothing, the work of a request continues its ``traceparent`` in a
    non-recording span (``SilentServerSpans``): FastAPI's own telemetry, which would record a
    server span and one per operation, is off (``tracing.FASTAPI_TELEMETRY_OFF``)."""
    from opentelemetry import trace

    from pantau_platform import tracing

    tracing.configure("intake-test")
    client = make_client(forwarder)

    @client.app.get("/probe")  # type: ignore[attr-defined]
    def probe() -> dict[str, Any]:
        span = trace.get_current_span()
        return {"recording": span.is_recording(),
                "trace": format(span.get_span_context().trace_id, "032x")}

    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    answer = client.get("/probe", headers={"traceparent": parent}).json()
    assert answer == {"recording": False, "trace": "4bf92f3577b34da6a3ce929d0e0e4736"}
