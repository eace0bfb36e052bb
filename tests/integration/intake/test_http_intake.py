"""The HTTP API in-process (TestClient) with the REAL broker behind it: what reaches
``pantau.accepted`` (stamped with ``pantaureceived``) and what is refused before it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from pantau_contracts.envelope import parse_time
from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_contracts.signing import CanonicalError, sign, sign_request
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from tests.conftest import wait_for
from tests.integration.intake.helpers import TempQueue, dev
from tests.integration.intake.helpers import receipt as owned_receipt

pytestmark = pytest.mark.integration
STRUCTURED = "application/cloudevents+json"
STAMP_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@pytest.fixture(scope="module")
def intake_settings(tmp_path_factory: pytest.TempPathFactory, amqp_url: str,
                    management_url: str) -> IntakeSettings:
    state = tmp_path_factory.mktemp("intake-http")
    s = IntakeSettings(amqp_url=amqp_url, amqp_management_url=management_url, state_dir=state,
                       intake_rate_per_second=0)
    assert credentials_main(["bootstrap-dev"], settings=s) == 0
    return s


@pytest.fixture(scope="module")
def client(intake_settings: IntakeSettings, amqp_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(intake_settings)) as c:
        yield c


@pytest.fixture
def accepted_queue(amqp_url: str) -> Iterator[Callable[[str], TempQueue]]:
    queues: list[TempQueue] = []

    def bind(routing_key: str) -> TempQueue:
        queue = TempQueue(amqp_url, ACCEPTED_EXCHANGE, routing_key)
        queues.append(queue)
        return queue

    yield bind
    for q in queues:
        q.close()


def submitted(department: str = "kota-bandung/dpmptsp", service: str = "pbg",
              receipt: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"/{department}",
            "type": "case.submitted", "time": datetime.now(UTC).isoformat(),
            "data": {"receipt_number": receipt or owned_receipt(department),
                     "service_code": service}}


def post(client: TestClient, raw: bytes, department: str = "kota-bandung/dpmptsp",
         content_type: str = STRUCTURED) -> Any:
    creds = dev(department)
    return client.post("/v1/events", content=raw, headers={
        **sign(creds.secret, raw, key_id=creds.key_id), "Content-Type": content_type})


def test_ready_with_the_real_broker(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}


def test_accepted_event_is_confirmed_into_pantau_accepted_once(
        client: TestClient, accepted_queue: Callable[[str], TempQueue]) -> None:
    queue = accepted_queue("kota-bandung.dpmptsp.case.submitted")
    event = submitted()
    raw = json.dumps(event).encode()
    before = datetime.now(UTC)
    first = post(client, raw)
    after = datetime.now(UTC)
    assert first.status_code == 202, first.text
    retry = post(client, raw)  # a retry, freshly signed
    assert retry.status_code == 202 and retry.json() == first.json()
    wait_for(lambda: [m for m in queue.drain() if m[1].message_id == event["id"]],
             message="the accepted event on pantau.accepted")
    # the message is the structured event as sent plus intake's received time, with
    # message_id = id; and only once (the retry, received later, is the same event)
    mine = [m for m in queue.drain() if m[1].message_id == event["id"]]
    assert len(mine) == 1
    method, properties, body = mine[0]
    assert method.routing_key == "kota-bandung.dpmptsp.case.submitted"
    assert properties.content_type == "application/cloudevents+json"
    forwarded = json.loads(body)
    stamp = forwarded.pop("pantaureceived")
    for name in ("traceparent", "tracestate"):  # set when this process traces (test order)
        forwarded.pop(name, None)
    assert forwarded == event
    assert STAMP_FORMAT.fullmatch(stamp), stamp
    assert before <= parse_time(stamp) <= after


def test_a_department_cannot_post_for_another(
        client: TestClient, accepted_queue: Callable[[str], TempQueue]) -> None:
    queue = accepted_queue("kota-bandung.#")
    # disdukcapil's key, dpmptsp's source
    response = post(client, json.dumps(submitted()).encode(), department="kota-bandung/disdukcapil")
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "source"
    # its own source but a dpmptsp service
    response = post(client, json.dumps(submitted("kota-bandung/disdukcapil", "pbg")).encode(),
                    department="kota-bandung/disdukcapil")
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "data.service_code"
    # its own service is fine
    ok = submitted("kota-bandung/disdukcapil", "ktp-el")
    assert post(client, json.dumps(ok).encode(),
                department="kota-bandung/disdukcapil").status_code == 202
    wait_for(lambda: any(m[1].message_id == ok["id"] for m in queue.drain()),
             message="disdukcapil's own event")
    sources = {json.loads(b)["source"] for _m, _p, b in queue.drain()}
    assert sources == {"/kota-bandung/disdukcapil"}


def test_a_replayed_signature_is_refused(client: TestClient) -> None:
    creds = dev("kota-bandung/dpmptsp")
    raw = json.dumps(submitted()).encode()
    headers = {**sign(creds.secret, raw, key_id=creds.key_id), "Content-Type": STRUCTURED}
    assert client.post("/v1/events", content=raw, headers=headers).status_code == 202
    replay = client.post("/v1/events", content=raw, headers=headers)
    assert replay.status_code == 409
    assert replay.headers["content-type"].startswith("application/problem+json")


def test_batch_reaches_the_broker_in_order(
        client: TestClient, accepted_queue: Callable[[str], TempQueue]) -> None:
    queue = accepted_queue("kota-bandung.dpmptsp.#")
    receipt = owned_receipt()
    first = submitted(receipt=receipt)
    stage = {**submitted(receipt=receipt), "id": str(uuid.uuid4()), "type": "case.stage_started",
             "data": {"receipt_number": receipt, "stage": "verifikasi-berkas"}}
    response = post(client, json.dumps([first, stage]).encode(),
                    content_type="application/cloudevents-batch+json")
    assert response.status_code == 202, response.text
    wait_for(lambda: len([m for m in queue.drain()
                          if m[1].message_id in (first["id"], stage["id"])]) == 2,
             message="both batch events")
    ids = [m[1].message_id for m in queue.drain() if m[1].message_id in (first["id"], stage["id"])]
    assert ids == [first["id"], stage["id"]]


def assert_refused(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    return problem


def assert_only_forwarded(queue: TempQueue, client: TestClient, refused: list[str]) -> None:
    """A later accepted event reached the queue and none of the ``refused`` ids did (the
    publisher confirms in order, so the refused ones would have come first)."""
    later = submitted()
    assert post(client, json.dumps(later).encode()).status_code == 202
    wait_for(lambda: any(m[1].message_id == later["id"] for m in queue.drain()),
             message="the later, valid event")
    assert not [m for m in queue.drain() if m[1].message_id in refused]


def test_a_sender_setting_pantaureceived_is_refused(
        client: TestClient, accepted_queue: Callable[[str], TempQueue]) -> None:
    queue = accepted_queue("kota-bandung.dpmptsp.#")
    stamped = {**submitted(), "pantaureceived": "2026-01-05T03:00:00.000000Z"}
    problem = assert_refused(post(client, json.dumps(stamped).encode()), 422, "pantaureceived")
    assert problem["event"]["id"] == stamped["id"]
    binary = submitted()
    headers = {"ce-specversion": "1.0", "ce-id": binary["id"], "ce-source": binary["source"],
               "ce-type": binary["type"], "ce-time": binary["time"],
               "ce-pantaureceived": "2026-01-05T03:00:00.000000Z"}
    creds = dev("kota-bandung/dpmptsp")
    raw = json.dumps(binary["data"]).encode()
    headers["Content-Type"] = "application/json"
    response = client.post("/v1/events", content=raw, headers={
        **headers, **sign_request(creds.secret, raw, key_id=creds.key_id, headers=headers)})
    assert_refused(response, 422, "ce-pantaureceived")
    assert_only_forwarded(queue, client, [stamped["id"], binary["id"]])


def test_a_time_in_the_future_is_refused(
        client: TestClient, accepted_queue: Callable[[str], TempQueue]) -> None:
    queue = accepted_queue("kota-bandung.dpmptsp.#")
    future = submitted()
    future["time"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    problem = assert_refused(post(client, json.dumps(future).encode()), 422, "time")
    assert problem["errors"][0]["expected"] == "not later than the server's time plus 300 s"
    assert_only_forwarded(queue, client, [future["id"]])


def test_a_department_cannot_use_another_departments_receipt(
        client: TestClient, accepted_queue: Callable[[str], TempQueue]) -> None:
    queue = accepted_queue("kota-bandung.#")
    # Dishub, with its own key, source and service, squatting a DPMPTSP (BDG-PBG-) receipt
    squat = submitted("kota-bandung/dishub", "andalalin",
                      receipt=owned_receipt("kota-bandung/dpmptsp"))
    problem = assert_refused(post(client, json.dumps(squat).encode(),
                                  department="kota-bandung/dishub"),
                             403, "data.receipt_number")
    assert problem["errors"][0]["expected"] == \
        "a receipt number starting with one of: BDG-ANDALALIN-, BDG-UB-"
    own = submitted("kota-bandung/dishub", "andalalin")
    assert post(client, json.dumps(own).encode(),
                department="kota-bandung/dishub").status_code == 202
    wait_for(lambda: any(m[1].message_id == own["id"] for m in queue.drain()),
             message="dishub's own event")
    assert not [m for m in queue.drain() if m[1].message_id == squat["id"]]


# --- fuzz: whatever arrives, the answer is 2xx or 4xx, never 5xx --------------------------------

# text() never yields lone surrogates; these strings do (json.dumps writes them as "\ud800")
lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.text(max_size=20) | st.text(lone_surrogates | st.characters(max_codepoint=0x7F),
                                       min_size=1, max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(texts, children, max_size=4), max_leaves=12)

event_like = st.fixed_dictionaries(
    {"specversion": st.sampled_from(["1.0", "0.3", 1, ""]),
     "id": st.one_of(st.uuids().map(str), st.integers(), st.just(""), texts),
     "source": st.sampled_from(["/kota-bandung/dpmptsp", "/kota-bandung/disdukcapil", "x",
                                "/a/b/c", ""]),
     "type": st.sampled_from(["case.submitted", "case.stage_started", "case.updated", "x"]),
     "time": st.sampled_from([datetime.now(UTC).isoformat(), "yesterday", "2026-01-01T00:00:00"]),
     "data": json_values},
    optional={"sequence": json_values, "subject": json_values, "dataschema": json_values,
              "Bad-Attr": json_values, "data_base64": st.text(max_size=8)})



def plant(event: dict[str, Any], where: str, lone: str) -> dict[str, Any]:
    """``event`` with a lone surrogate as its id, as an attribute name or deep in its data."""
    planted = dict(event)
    if where == "id":
        planted["id"] = f"{planted['id']}{lone}"
    elif where == "key":
        planted[f"x{lone}"] = "1"
    else:
        planted["data"] = {"receipt_number": f"R{lone}", "nested": [{lone: event["data"]}]}
    return planted


surrogate_events = st.builds(plant, event_like, st.sampled_from(["id", "key", "data"]),
                             lone_surrogates)
bodies = st.one_of(
    st.binary(max_size=300),
    surrogate_events.map(lambda v: json.dumps(v).encode()),  # "\udXXX" escapes
    st.lists(event_like | surrogate_events, min_size=1, max_size=3).map(
        lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    event_like.map(lambda v: json.dumps(v).encode()),
    st.lists(event_like, max_size=3).map(lambda v: json.dumps(v).encode()),
    event_like.map(lambda v: json.dumps(v).encode("utf-16")),
)
content_types = st.sampled_from([
    STRUCTURED, "application/cloudevents-batch+json", "application/json", "text/plain", "",
    "application/cloudevents+json; charset=utf-16", "application/cloudevents+json; charset=utf-8",
    "multipart/form-data; boundary=x"])
header_names = st.one_of(
    st.sampled_from(["ce-id", "ce-source", "ce-type", "ce-time", "ce-specversion",
                     "ce-sequence", "ce-data", "ce-subject", "x-pantau-timestamp",
                     "x-pantau-key", "content-length"]),
    st.from_regex(r"\Ace-[A-Za-z0-9_-]{1,25}\Z"))
header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    # a lone surrogate percent-encoded (its would-be UTF-8 bytes) or JSON-escaped
    st.text(lone_surrogates | st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
            max_size=4).map(lambda t: quote(t, errors="surrogatepass")),
    st.text(lone_surrogates, min_size=1, max_size=2).map(
        lambda t: json.dumps(t)[1:-1]))
header_sets = st.dictionaries(header_names, header_values, max_size=4)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies, content_type=content_types, headers=header_sets, signed=st.booleans())
def test_fuzz_never_5xx(client: TestClient, body: bytes, content_type: str,
                        headers: dict[str, str], signed: bool) -> None:
    creds = dev("kota-bandung/dpmptsp")
    request_headers = {"Content-Type": content_type, **headers}
    if signed:  # v2 (covers the ce-* headers); v1 where no canonical form exists (then a 401)
        try:
            request_headers.update(sign_request(creds.secret, body, key_id=creds.key_id,
                                                headers=request_headers))
        except CanonicalError:
            request_headers.update(sign(creds.secret, body, key_id=creds.key_id))
    response = client.post("/v1/events", content=body, headers=request_headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == response.status_code


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(event=surrogate_events, content_type=st.sampled_from(
    [STRUCTURED, "application/cloudevents-batch+json"]), headers=header_sets)
def test_fuzz_lone_surrogates_are_400_never_5xx(client: TestClient, event: dict[str, Any],
                                                content_type: str,
                                                headers: dict[str, str]) -> None:
    """Signed, well-formed JSON whose only fault is a lone surrogate somewhere."""
    try:
        raw = json.dumps(event if content_type == STRUCTURED else [event],
                         allow_nan=False).encode()
    except ValueError:  # an Infinity somewhere: not this test's subject
        reject()
    creds = dev("kota-bandung/dpmptsp")
    no_ce = {k: v for k, v in headers.items() if not k.startswith("ce-")}
    response = client.post("/v1/events", content=raw, headers={
        "Content-Type": content_type, **no_ce, **sign(creds.secret, raw, key_id=creds.key_id)})
    assert response.status_code < 500, response.text
    if not set(no_ce) & {"x-pantau-timestamp", "x-pantau-key", "content-length"}:
        assert response.status_code == 400, response.text
        assert "surrogate" in response.json()["errors"][0]["problem"]


def test_state_dir_holds_no_plaintext_secret(intake_settings: IntakeSettings) -> None:
    database = Path(intake_settings.state_dir) / "intake.sqlite3"
    assert database.exists()
    assert dev("kota-bandung/dpmptsp").secret.encode() not in database.read_bytes()
