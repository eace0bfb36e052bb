"""The request-signing scheme, shared by the server (verify) and clients (sign).

Scheme ``v1``::

    X-Pantau-Key:        <key id>
    X-Pantau-Timestamp:  <unix seconds: an integer, optionally with up to 6 decimals>
    X-Pantau-Signature:  v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

The signature covers the exact body bytes and the timestamp *as sent in the header*, so a body
cannot be altered and an old request cannot be re-sent outside the replay window. Inside the
window each signature is accepted once (replay refusal); a fractional timestamp (milliseconds,
as ``sign`` sends) lets a sender retry within the same second with a distinct signature.
Several signatures may be sent comma-separated (``v1=…,v1=…``), useful while a sender
migrates; one valid one is enough.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_HEADER = "X-Pantau-Key"
TIMESTAMP_HEADER = "X-Pantau-Timestamp"
SIGNATURE_HEADER = "X-Pantau-Signature"
SCHEME = "v1"


def compute(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret``."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: str, body: bytes) -> str:
    return f"{SCHEME}={compute(secret, timestamp, body)}"


def parse_signature_header(value: str) -> list[str]:
    """Return the hex digests of every ``v1=`` element; unknown schemes are ignored."""
    digests = []
    for part in value.split(","):
        scheme, _, digest = part.strip().partition("=")
        if scheme == SCHEME and digest:
            digests.append(digest.strip().lower())
    return digests


def matches(secret: str, timestamp: str, body: bytes, digests: list[str]) -> str | None:
    """The digest that verifies (constant-time compare), or None."""
    expected = compute(secret, timestamp, body)
    for digest in digests:
        if hmac.compare_digest(expected, digest):
            return digest
    return None
