"""Sending events over HTTP, signed with scheme v2 (``pantau_contracts.signing.sign_request``).

The signature covers the method, the path, the Content-Type and every ``ce-*`` header as well as
the body, so structured, batched and binary mode are all signed the same way. Every attempt is
signed anew (intake accepts a signature once). 429 and 503 answers and
connection errors are retried with backoff (honouring ``Retry-After``); a retried event that was
in fact accepted the first time is answered 202 again (intake is idempotent on source + id).
Other 4xx answers raise ``Refused`` carrying the problem document.

Hearing back (signed GETs, v2 over the empty body): ``event_status(id)`` is the event's fate —
``accepted``, ``applied`` or ``refused`` with ``reason`` and ``detail`` — or None when intake
knows no such event of yours (404); ``refusals(after=cursor)`` is one page of your refusals
(``{"refusals": [...], "next": cursor}``), oldest first; ``follow_refusals`` polls it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from cloudevents.core.v1.event import CloudEvent

from pantau_contracts import event_to_json
from pantau_contracts.signing import sign_request

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON = "application/json"


class Refused(RuntimeError):
    """Intake refused the request; ``problem`` is the RFC 9457 document."""

    def __init__(self, problem: dict[str, Any]) -> None:
        self.problem = problem
        errors = "; ".join(f"{e.get('field')}: {e.get('problem')} (expected {e.get('expected')})"
                           for e in problem.get("errors", []))
        super().__init__(f"{problem.get('status')} {problem.get('title')}: "
                         f"{problem.get('detail')} {errors}".strip())


class HttpSender:
    def __init__(self, base_url: str, key_id: str, secret: str, *, timeout: float = 10.0,
                 attempts: int = 5, client: httpx.Client | None = None) -> None:
        self._url = httpx.URL(base_url.rstrip("/") + "/v1/events")
        self._target = self._url.raw_path.decode("ascii")  # path and query, as on the wire
        self._key_id = key_id
        self._secret = secret
        self._attempts = attempts
        self._client = client or httpx.Client(timeout=timeout)

    def send(self, event: CloudEvent | dict[str, Any] | bytes) -> dict[str, Any]:
        return self._post(_bytes(event), STRUCTURED)

    def send_batch(self, events: Sequence[CloudEvent | dict[str, Any]]) -> dict[str, Any]:
        body = b"[" + b",".join(_bytes(e) for e in events) + b"]"
        return self._post(body, BATCH)

    def post_once(self, body: bytes, content_type: str = BATCH) -> httpx.Response:
        """One signed POST of ``body`` and intake's raw answer: no retry, nothing raised for a
        4xx/5xx (the backfill applies its own policy: retry 429/503 for ever, split refusals)."""
        signed = {"Content-Type": content_type}
        headers = {**signed, **sign_request(self._secret, body, key_id=self._key_id,
                                            target=self._target, headers=signed)}
        return self._client.post(self._url, content=body, headers=headers)

    def send_binary(self, attributes: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
        """Binary mode: ``attributes`` (``{"id": …, "source": …}``) become ``ce-*`` headers
        (values percent-encoded beyond printable ASCII, as CloudEvents requires)."""
        headers = {f"ce-{name}": quote(str(value), safe=_SAFE)
                   for name, value in attributes.items()}
        return self._post(json.dumps(data).encode(), JSON, headers)

    def event_status(self, event_id: str) -> dict[str, Any] | None:
        """``GET /v1/events/{id}``: the event's fate, or None if intake does not know it."""
        return self._get(f"/v1/events/{quote(event_id, safe='')}", missing_ok=True)

    def refusals(self, after: int = 0, limit: int = 100) -> dict[str, Any]:
        """``GET /v1/refusals?after=…&limit=…``: ``{"refusals": [...], "next": cursor}``."""
        page = self._get(f"/v1/refusals?after={int(after)}&limit={int(limit)}")
        assert page is not None
        return page

    def follow_refusals(self, after: int = 0, *, interval: float = 5.0,
                        sleep: Callable[[float], None] = time.sleep
                        ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every refusal after ``after``, forever: (cursor, refusal), polling every
        ``interval`` seconds when there is nothing new. Store the cursor to resume."""
        while True:
            page = self.refusals(after)
            for refusal in page["refusals"]:
                yield int(refusal["cursor"]), refusal
            if page["next"] == after:
                sleep(interval)
            after = int(page["next"])

    def close(self) -> None:
        self._client.close()

    def _get(self, target: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        base = self._url.copy_with(raw_path=b"/")
        path = self._target.removesuffix("/v1/events") + target  # keeps a base path prefix

        def attempt() -> httpx.Response:
            auth = sign_request(self._secret, b"", key_id=self._key_id, method="GET",
                                target=path)
            return self._client.get(base.join(path), headers=auth)
        return self._exchange(attempt, 200, missing_ok=missing_ok)

    def _post(self, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> dict[str, Any]:
        signed = {"Content-Type": content_type, **(extra or {})}

        def attempt() -> httpx.Response:
            headers = {**signed, **sign_request(self._secret, body, key_id=self._key_id,
                                                target=self._target, headers=signed)}
            return self._client.post(self._url, content=body, headers=headers)
        answer = self._exchange(attempt, 202)
        assert answer is not None
        return answer

    def _exchange(self, attempt: Callable[[], httpx.Response], success: int, *,
                  missing_ok: bool = False) -> dict[str, Any] | None:
        """Run ``attempt`` (it signs anew each time: intake accepts a signature once) until it
        answers ``success``; connection errors, 429 and 503 are retried with backoff honouring
        ``Retry-After``; a 404 is None when ``missing_ok``; anything else raises ``Refused``."""
        delay = 0.5
        for number in range(1, self._attempts + 1):
            try:
                response = attempt()
            except httpx.TransportError:
                if number == self._attempts:
                    raise
                time.sleep(delay)
                delay *= 2
                continue
            if response.status_code == success:
                answer: dict[str, Any] = response.json()
                return answer
            if response.status_code == 404 and missing_ok:
                return None
            if response.status_code in (429, 503) and number < self._attempts:
                retry_after = response.headers.get("Retry-After", "")
                time.sleep(float(retry_after) if retry_after.isdigit() else delay)
                delay *= 2
                continue
            try:
                problem = response.json()
            except ValueError:
                problem = {"status": response.status_code, "detail": response.text}
            raise Refused(problem)
        raise AssertionError("unreachable")


# printable ASCII except the percent sign and double quote stays as it is (CloudEvents HTTP binding)
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '%"')


def _bytes(event: CloudEvent | dict[str, Any] | bytes) -> bytes:
    if isinstance(event, CloudEvent):
        return bytes(event_to_json(event))
    if isinstance(event, dict):
        return json.dumps(event).encode()
    return event
