"""Verifying a Pantau webhook in the department's receiver (``verify_webhook``).

Pantau signs every webhook POST exactly as a department signs a request to intake (scheme v2 of
``pantau_contracts.signing``), with the department's OWN current key:

    X-Pantau-Key:        the key id (yours)
    X-Pantau-Timestamp:  unix seconds (with milliseconds)
    X-Pantau-Signature:  v2=<hex HMAC-SHA256(secret, canonical request)>

where the canonical request is ``PANTAU-HMAC-SHA256-V2``, the timestamp, ``POST``, the path and
query of YOUR webhook URL as the receiver sees them on the request line, the Content-Type
(``application/cloudevents+json``) and the SHA-256 of the body (no ``ce-*`` lines: the event is
in structured mode). The receiver rebuilds it from the request it received and compares:

    event = verify_webhook({KEY_ID: SECRET}, request.headers, raw_body,
                           target=request.path_with_query)

Pass every key you hold (during a rotation Pantau signs with the newest active key). A request
is refused (``WebhookVerificationError``) when a header is missing, the key id is not yours, the
timestamp is more than ``window`` seconds from your clock, or no signature matches. Answer 2xx
quickly once verified (deduplicate on the CloudEvent ``id``: a delivery may come twice, e.g.
after a timeout on your side); 4xx other than 408/429 ends the delivery (dead at Pantau).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from pantau_contracts.signing import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    V2,
    CanonicalError,
    CanonicalRequest,
    compute_v2,
    matching,
    parse_signature_header,
)


class WebhookVerificationError(ValueError):
    """The request is not a valid Pantau webhook (the message says which check failed)."""


def verify_webhook(secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes, *,
                   target: str, method: str = "POST", now: float | None = None,
                   window: float = 300.0) -> dict[str, Any]:
    """The webhook's CloudEvent (parsed JSON) if the request verifies; raises otherwise.

    ``secrets``: key id → secret (yours); ``headers``: the request's headers (any case);
    ``target``: the path and query exactly as on the request line."""
    found = {name.lower(): value.strip() for name, value in headers.items()}
    key_id, timestamp, signature = (found.get(h.lower()) for h in (
        KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
    if not key_id or not timestamp or not signature:
        raise WebhookVerificationError("missing X-Pantau-Key, X-Pantau-Timestamp or "
                                       "X-Pantau-Signature")
    secret = secrets.get(key_id)
    if secret is None:
        raise WebhookVerificationError(f"unknown key id {key_id!r}")
    try:
        moment = float(timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("X-Pantau-Timestamp is not unix seconds") from exc
    if abs((time.time() if now is None else now) - moment) > window:
        raise WebhookVerificationError("the timestamp is outside the window (replay or clock)")
    try:
        canonical = CanonicalRequest.of(timestamp, method, target, list(headers.items()))
    except CanonicalError as exc:
        raise WebhookVerificationError(str(exc)) from exc
    expected = compute_v2(secret, canonical.for_body(body))
    if matching(expected, parse_signature_header(signature).get(V2, [])) is None:
        raise WebhookVerificationError("the signature does not match the request")
    try:
        event: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc
    return event
