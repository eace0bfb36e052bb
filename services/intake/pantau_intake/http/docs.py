"""OpenAPI documentation for integrators: descriptions, auth headers and examples per event."""

from __future__ import annotations

from typing import Any

from pantau_intake.domain.problems import PROBLEM_BASE
from pantau_intake.http.parsing import BATCH, STRUCTURED

DESCRIPTION = """
**Pantau intake** receives case events from departments (OPD) and accepts them into Pantau.

### Authentication (every request to `/v1/events`)
Each department receives a key id and a secret (`python -m pantau_intake.credentials issue`).
Sign every request:

| Header | Value |
|---|---|
| `X-Pantau-Key` | your key id, e.g. `kota-bandung.dpmptsp.dev1` |
| `X-Pantau-Timestamp` | current unix time in seconds; must be within ±300 s of the server |
| `X-Pantau-Signature` | `v2=` + hex HMAC-SHA256(secret, canonical request) |

The **canonical request** is these lines joined by `\n` (no newline at the end, printable ASCII):
`PANTAU-HMAC-SHA256-V2`, the timestamp as sent, the method (`POST`), the path and query as on
the request line (`/v1/events`), the `Content-Type` value (trimmed), one `ce-<name>:<value>`
line per `ce-*` header (names lower-case, values trimmed, sorted by name; none in structured
mode), and the lower-case hex SHA-256 of the body. The key id and timestamp are checked (and an
unknown key refused, 401) before the body is read.

In shell: `printf 'PANTAU-HMAC-SHA256-V2\n%s\nPOST\n/v1/events\n%s\n%s' "$TS" "$CT"
"$(printf '%s' "$BODY" | openssl dgst -sha256 -hex | sed 's/^.*= //')" | openssl dgst -sha256
-hmac "$SECRET" -hex`. A signature is accepted **once**: sign every attempt (retries included)
with a fresh timestamp; re-sending the same signed request is refused with 409. In Python use
`pantau_contracts.signing.sign_request(secret, body, key_id=…, headers=…)` or the department SDK
`pantau_client` (README, "Integrate your department", has a worked example).

**Deprecated — `v1=`** hex HMAC-SHA256(secret, timestamp + "." + body): still accepted for
structured and batched mode (answered with a `Deprecation` header), refused for binary mode
(its `ce-*` attributes would not be signed).

### Event formats (CloudEvents 1.0)
* **structured**: `Content-Type: application/cloudevents+json`, body = one event;
* **binary**: `ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-time` headers,
  `Content-Type: application/json`, body = the event's `data`;
* **batch**: `Content-Type: application/cloudevents-batch+json`, body = JSON array (≤ 500 events,
  ≤ 5 MiB). A batch is validated as a whole: if any event is refused **none** is accepted and the
  answer lists every event's result; fix and resend the whole batch.

`source` must be your department, `/{jurisdiction}/{department}` (e.g. `/kota-bandung/dpmptsp`);
`time` (when the step happened) is required and may not be later than the server's time plus
300 s (by default); `subject`, if sent, must equal `data.receipt_number`; `sequence` (integer)
orders a case's events. `data.receipt_number` must start with one of your department's
receipt prefixes (e.g. `BDG-PBG-`); a `case.submitted` may only name a `service_code` of your
department.

Never send `pantaureceived`: intake stamps every accepted event with it (the server's time of
receipt, UTC); an event that carries it is refused (422).

### Answers
* `202` — accepted: the broker has confirmed the event durably; it will be processed.
* Retrying an already accepted event (same `source` and `id`, same content) answers `202` again
  and creates nothing new. The same id with different content is a `409`.
* Errors are RFC 9457 `application/problem+json` with `errors: [{field, problem, expected}]`:
  `400` malformed JSON/encoding, `401` authentication, `403` not your department, receipt or
  service, `409` replayed signature or id reused, `413` too large, `415` content type, `422`
  contract (including a sender-set `pantaureceived` and a `time` in the future),
  `429` rate limit (see `Retry-After`), `503` broker unavailable (nothing accepted; retry).

### What became of your events (`GET /v1/events/{id}`, `GET /v1/refusals`)
A `202` means intake accepted the event; tracking applies or refuses it a moment later (e.g.
`stage-order`, `wrong-department`, `unknown-case`). Ask, signed exactly like a `POST` with v2
(method `GET`, the path and query as sent, an empty Content-Type line, the SHA-256 of the empty
body — `sign_request(secret, b"", key_id=…, method="GET", target="/v1/events/<id>")`):

* `GET /v1/events/{id}` — `status`: `accepted` (intake has it, tracking has not decided yet;
  remembered 24 h), `applied` (with the case `revision`), or `refused` (with `stage`, the
  machine `reason` and the human `detail`), plus `accepted_at`, `applied_at`/`refused_at` and
  `receipt_number`. (`received` is reserved for an event intake holds but has not accepted.)
  Only your own events: another department's id is `404`, like an unknown one.
* `GET /v1/refusals?after=<cursor>&limit=<n>` — your refusals (by tracking or, over AMQP, by
  intake) with a cursor above `after`, oldest first, and `next`: poll with `after=next`.
  Outcomes are kept 30 days. Cursors never skip a refusal: outcomes are written by one writer
  at a time, so cursors become visible in increasing order.

Or be told: a **webhook** per department (`python -m pantau_intake.credentials webhook set`)
receives each refusal (and optionally your cases' `case.updated` / `case.overdue`) as a
structured CloudEvent POSTed to your URL, signed with YOUR current key in the same v2 scheme
(`X-Pantau-Key`, `X-Pantau-Timestamp`, `X-Pantau-Signature`; the target is your URL's path and
query, Content-Type `application/cloudevents+json`). Verify it with
`pantau_client.webhooks.verify_webhook`; answer 2xx. Retries: exponential back-off (10 s
doubling to 1 h, jittered) for 24 h, in order per case; 4xx other than 408/429 or a redirect
ends a delivery at once.
"""

_TIME = "2026-03-02T08:15:00+07:00"


def _event(type_: str, data: dict[str, Any], *, source: str = "/kota-bandung/dpmptsp",
           seq: int = 1) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"0b6c7d1e-{seq:04d}-4a5b-9c8d-1e2f3a4b5c6d",
            "source": source, "type": type_, "time": _TIME, "sequence": seq,
            "subject": data["receipt_number"], "datacontenttype": "application/json",
            "data": data}


RECEIPT = "BDG-PBG-2026-000123"
EVENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "case.submitted": _event("case.submitted", {
        "receipt_number": RECEIPT, "service_code": "pbg", "kecamatan": "Coblong",
        "channel": "loket", "applicant": {"name": "(nama pemohon — private, never published)",
                                          "nik": "3273010101010001"}}),
    "case.stage_started": _event("case.stage_started", {
        "receipt_number": RECEIPT, "stage": "verifikasi-berkas"}, seq=2),
    "case.returned": _event("case.returned", {
        "receipt_number": RECEIPT, "reason": "Dokumen KRK belum dilampirkan"}, seq=3),
    "case.resumed": _event("case.resumed", {"receipt_number": RECEIPT}, seq=4),
    "case.rejected": _event("case.rejected", {
        "receipt_number": RECEIPT, "reason": "Lokasi tidak sesuai rencana tata ruang"}, seq=5),
    "case.completed": _event("case.completed", {
        "receipt_number": RECEIPT, "note": "PBG terbit"}, seq=6),
    "case.withdrawn": _event("case.withdrawn", {
        "receipt_number": RECEIPT, "reason": "Dibatalkan atas permintaan pemohon"}, seq=7),
}


def request_body() -> dict[str, Any]:
    examples = {name: {"summary": name, "value": value} for name, value in EVENT_EXAMPLES.items()}
    return {
        "required": True,
        "description": "One CloudEvent (structured), its data (binary mode, with ce-* headers) "
                       "or a JSON array of events (batch).",
        "content": {
            STRUCTURED: {"schema": {"type": "object"}, "examples": examples},
            "application/json": {
                "schema": {"type": "object"},
                "description": "Binary mode: send the attributes as ce-* headers "
                               "(ce-specversion: 1.0, ce-id, ce-source, ce-type, ce-time, "
                               "ce-subject, ce-sequence); the body is the event's data.",
                "examples": {"case.stage_started data": {
                    "value": EVENT_EXAMPLES["case.stage_started"]["data"]}}},
            BATCH: {"schema": {"type": "array", "items": {"type": "object"}, "maxItems": 500},
                    "examples": {"batch": {"value": [EVENT_EXAMPLES["case.submitted"],
                                                     EVENT_EXAMPLES["case.stage_started"]]}}},
        },
    }


def _problem(slug: str, title: str, status: int, detail: str,
             errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            "instance": "/v1/events", "errors": errors}


def _problem_response(description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"example": example}}}


RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: confirmed durably by the broker.",
          "content": {"application/json": {"examples": {
              "single": {"value": {"id": EVENT_EXAMPLES["case.submitted"]["id"],
                                   "source": "/kota-bandung/dpmptsp", "status": "accepted"}},
              "batch": {"value": {"status": "accepted", "count": 2, "results": [
                  {"index": 0, "id": "…", "source": "/kota-bandung/dpmptsp",
                   "status": "accepted"}]}}}}}},
    400: _problem_response("Malformed body (not UTF-8 JSON).", _problem(
        "malformed-request", "The request could not be parsed", 400,
        "the body is not valid JSON (Expecting value: line 1 column 1 (char 0))",
        [{"field": "body", "problem": "is not valid JSON", "expected": "a JSON document"}])),
    401: _problem_response("Missing or wrong signature, unknown/revoked key, stale timestamp.",
                           _problem("unauthenticated", "Authentication failed", 401,
                                    "the signature does not match the request",
                                    [{"field": "X-Pantau-Signature",
                                      "problem": "the signature does not match the request",
                                      "expected": "v2=<hex HMAC-SHA256(secret, canonical "
                                                  "request)>"}])),
    403: _problem_response("Not your department, not your receipt number (field "
                           "data.receipt_number) or not your service.", _problem(
        "forbidden", "Not allowed for this department", 403,
        "you are authenticated as kota-bandung/dpmptsp and may not emit events for "
        "kota-bandung/disdukcapil",
        [{"field": "source", "problem": "'/kota-bandung/disdukcapil' is not your department",
          "expected": "/kota-bandung/dpmptsp (optionally followed by /<system>)"}])),
    409: _problem_response("Replayed signature, or event id reused with other content.",
                           _problem("replayed-request", "This signed request was already "
                                    "received", 409, "this exact signed request was received "
                                    "before; sign every attempt with a fresh timestamp",
                                    [{"field": "X-Pantau-Signature", "problem": "was already "
                                      "used", "expected": "a fresh timestamp and signature for "
                                      "every attempt"}])),
    413: _problem_response("Body or batch too large.", _problem(
        "payload-too-large", "The request is too large", 413,
        "The body exceeds the limit of 262144 bytes.",
        [{"field": "body", "problem": "exceeds 262144", "expected": "at most 262144"}])),
    415: _problem_response("Unsupported content type.", _problem(
        "unsupported-media-type", "Unsupported content type", 415,
        "Content-Type 'text/plain' is not accepted.",
        [{"field": "Content-Type", "problem": "'text/plain' is not supported",
          "expected": "application/cloudevents+json …"}])),
    422: _problem_response("The event breaks the contract; every problem is listed.", _problem(
        "invalid-event", "The event does not match the contract", 422,
        "1 problem(s) in the event; see 'errors'.",
        [{"field": "data.receipt_number", "problem": "is required",
          "expected": "matching ^[A-Z0-9][A-Z0-9-]{3,47}$"}])),
    429: _problem_response("Rate limit; wait Retry-After seconds.", _problem(
        "rate-limited", "Too many events", 429,
        "The department's rate limit is exhausted; retry after 2 s.", [])),
    503: _problem_response("Broker unavailable; nothing accepted, retry later.", _problem(
        "broker-unavailable", "Events could not be accepted right now", 503,
        "broker unavailable. Nothing was accepted; retry the same events later.", [])),
}

SECURITY_SCHEMES = {
    "PantauKey": {"type": "apiKey", "in": "header", "name": "X-Pantau-Key",
                  "description": "Your key id (checked before the body is read)."},
    "PantauTimestamp": {"type": "apiKey", "in": "header", "name": "X-Pantau-Timestamp",
                        "description": "Unix seconds; within ±300 s of the server clock."},
    "PantauSignature": {"type": "apiKey", "in": "header", "name": "X-Pantau-Signature",
                        "description": "v2=<hex HMAC-SHA256(secret, canonical request)>: "
                                       "the canonical request covers the timestamp, method, "
                                       "path and query, Content-Type, every ce-* header and "
                                       "the body's "
                                       "SHA-256 (see the description above). v1= (timestamp "
                                       "and body only) is deprecated and refused in binary "
                                       "mode."},
}


def _status_example(status: str, **extra: Any) -> dict[str, Any]:
    return {"value": {"id": EVENT_EXAMPLES["case.submitted"]["id"],
                      "source": "/kota-bandung/dpmptsp", "status": status, **extra}}


_NOT_FOUND = _problem_response("Not one of your known events (another department's id is 404 "
                               "too).", {**_problem(
                                   "event-not-found", "No such event", 404,
                                   "No event 'x' of your department is known.",
                                   [{"field": "id", "problem": "is not one of your known events",
                                     "expected": "the id of an event your department sent"}]),
                                   "instance": "/v1/events/x"})
STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The event's fate.", "content": {"application/json": {"examples": {
        "accepted": _status_example("accepted", accepted_at="2026-03-02T01:15:02+00:00"),
        "applied": _status_example("applied", type="case.submitted", receipt_number=RECEIPT,
                                   revision=1, accepted_at="2026-03-02T01:15:02+00:00",
                                   applied_at="2026-03-02T01:15:03+00:00"),
        "refused": _status_example(
            "refused", type="case.resumed", receipt_number=RECEIPT, stage="tracking",
            reason="stage-order", detail="case.resumed needs a returned case",
            accepted_at="2026-03-02T01:15:02+00:00",
            refused_at="2026-03-02T01:15:03+00:00")}}}},
    401: RESPONSES[401], 404: _NOT_FOUND, 409: RESPONSES[409], 429: RESPONSES[429],
    503: RESPONSES[503],
}
REFUSALS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Your refusals after the cursor, oldest first; `next` to continue.",
          "content": {"application/json": {"example": {"refusals": [{
              "cursor": 42, "id": "7f1c2b9e-0001-4c2a-9d3e-000000000009",
              "source": "/kota-bandung/dpmptsp", "type": "case.resumed",
              "receipt_number": RECEIPT, "stage": "tracking", "reason": "stage-order",
              "detail": "case.resumed needs a returned case",
              "refused_at": "2026-03-02T01:15:03+00:00"}], "next": 42}}}},
    400: RESPONSES[400], 401: RESPONSES[401], 409: RESPONSES[409], 429: RESPONSES[429],
    503: RESPONSES[503],
}
