"""Request signing for intake's HTTP API: the one implementation, for senders and for intake.

It lives in ``pantau_contracts`` because the signature *is* part of the wire contract between a
department and intake, exactly like the event envelope: the department SDK (``pantau_client``)
signs with it and intake's verifier (``pantau_intake.service.authentication``) checks with it,
and both already depend on this package and on nothing heavier for it (standard library only).
Putting it in ``pantau_client`` instead would make intake depend on the department SDK.

Headers (every request to ``/v1/events``)::

    X-Pantau-Key:        <key id>
    X-Pantau-Timestamp:  <unix seconds: an integer, optionally with up to 6 decimals>
    X-Pantau-Signature:  v2=<hex HMAC-SHA256(secret, canonical request)>

Scheme ``v2`` — the canonical request is the following lines joined by ``"\\n"`` (LF, no
trailing newline), encoded as ASCII:

    PANTAU-HMAC-SHA256-V2
    <timestamp>                 the X-Pantau-Timestamp value exactly as sent (trimmed)
    <METHOD>                    upper case, e.g. POST
    <request target>            path and query exactly as on the request line, e.g.
                                /v1/events  or  /v1/events?x=1  (no scheme, no host)
    <content type>              the Content-Type value, trimmed (empty line if absent)
    ce-<name>:<value>           one line per ce-* header: name lower-cased, value trimmed of
                                spaces and tabs, lines sorted by name (zero lines if none)
    <body digest>               lower-case hex SHA-256 of the raw body bytes

Every part must be printable ASCII (CloudEvents percent-encodes anything else in ``ce-*``
values); a ``ce-*`` or Content-Type header sent twice is refused. Intake verifies by rebuilding
this text from the request it received and comparing HMACs in constant time; a sender signs by
building it from the request it is about to send. Binary-mode attributes and the content type
are therefore covered, not only the body.

Scheme ``v1`` (deprecated; structured and batched mode only, never binary mode)::

    X-Pantau-Signature:  v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

Common rules: the timestamp must be within the replay window of intake's clock and each
signature is accepted once inside it, so every attempt (retries included) is signed anew;
a fractional timestamp (milliseconds, as ``sign_request`` sends) lets a sender retry within the
same second. Several signatures may be sent comma-separated (``v2=…,v1=…``); one valid one
is enough, and unknown schemes are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KEY_HEADER = "X-Pantau-Key"
TIMESTAMP_HEADER = "X-Pantau-Timestamp"
SIGNATURE_HEADER = "X-Pantau-Signature"
V1 = "v1"
V2 = "v2"
SCHEMES = (V2, V1)
"""Known schemes, preferred first."""
V2_PREFIX = "PANTAU-HMAC-SHA256-V2"
CE_PREFIX = "ce-"


class CanonicalError(ValueError):
    """The request cannot be put in canonical form (non-ASCII part, repeated ce-* header)."""


@dataclass(frozen=True)
class CanonicalRequest:
    """The signed parts of a request (v2), before the body digest is known or after."""

    timestamp: str
    method: str
    target: str
    content_type: str
    ce_headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, timestamp: str, method: str, target: str,
           headers: Iterable[tuple[str, str]]) -> CanonicalRequest:
        """Collect the signed parts from ``headers`` (name, value pairs, any case, repeats kept
        so that a repeated ``ce-*`` header can be refused). Raises ``CanonicalError``."""
        signed: dict[str, str] = {}
        for name, value in headers:
            lower = name.strip().lower()
            if lower == "content-type" or lower.startswith(CE_PREFIX):
                # one value each: a repeat could be read one way here and another by the parser
                if lower in signed:
                    raise CanonicalError(f"the header {lower} is sent more than once")
                signed[lower] = _trim(value)
        content_type = signed.pop("content-type", "")
        request = cls(timestamp.strip(), method.upper(), target, content_type,
                      tuple(sorted(signed.items())))
        request.text(hashlib.sha256(b"").hexdigest())  # checks ASCII and line breaks
        return request

    def text(self, body_digest: str) -> str:
        """The canonical request (see the module docstring) for a body with that digest."""
        lines = [V2_PREFIX, self.timestamp, self.method, self.target, self.content_type,
                 *(f"{name}:{value}" for name, value in self.ce_headers), body_digest]
        for line in lines:
            if not (line.isascii() and line.isprintable()):
                raise CanonicalError(f"{line[:40]!r} is not printable ASCII")
        return "\n".join(lines)

    def for_body(self, body: bytes) -> str:
        return self.text(hashlib.sha256(body).hexdigest())


def _trim(value: str) -> str:
    return value.strip(" \t")


def compute_v2(secret: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the canonical request text under ``secret``."""
    return hmac.new(secret.encode("utf-8"), canonical.encode("ascii"), hashlib.sha256).hexdigest()


def compute_v1(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret`` (deprecated scheme)."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_signature_header(value: str) -> dict[str, list[str]]:
    """The hex digests of every known scheme's element, by scheme; unknown schemes ignored."""
    digests: dict[str, list[str]] = {}
    for part in value.split(","):
        scheme, _, digest = part.strip().partition("=")
        if scheme in SCHEMES and digest.strip():
            digests.setdefault(scheme, []).append(digest.strip().lower())
    return digests


def matching(expected: str, digests: Iterable[str]) -> str | None:
    """The digest equal to ``expected`` (constant-time compare), or None."""
    found = None
    for digest in digests:
        if digest.isascii() and hmac.compare_digest(expected, digest):
            found = digest
    return found


def timestamp_now(timestamp: float | None = None) -> str:
    """Unix seconds with milliseconds (now by default); an int is sent as whole seconds."""
    if timestamp is None:
        return f"{time.time():.3f}"
    if isinstance(timestamp, int):
        return str(timestamp)
    return f"{timestamp:.3f}"


def sign_request(secret: str, body: bytes, *, key_id: str | None = None,
                 method: str = "POST", target: str = "/v1/events",
                 headers: Mapping[str, str] | None = None,
                 timestamp: float | None = None) -> dict[str, str]:
    """The v2 authentication headers for a request that will be sent with ``headers`` (its
    Content-Type and any ``ce-*`` headers, sent unchanged) and ``body``.

        headers = {"Content-Type": "application/cloudevents+json"}
        auth = sign_request(secret, body, key_id="kota-bandung.dpmptsp.dev1", headers=headers)
        httpx.post(url, content=body, headers={**headers, **auth})
    """
    ts = timestamp_now(timestamp)
    canonical = CanonicalRequest.of(ts, method, target, (headers or {}).items())
    result = {TIMESTAMP_HEADER: ts,
              SIGNATURE_HEADER: f"{V2}={compute_v2(secret, canonical.for_body(body))}"}
    if key_id is not None:
        result[KEY_HEADER] = key_id
    return result


def sign(secret: str, body: bytes, timestamp: float | None = None, *,
         key_id: str | None = None) -> dict[str, str]:
    """The **deprecated** v1 headers (timestamp + body only; refused in binary mode).

    Kept for senders and tests of structured and batched mode that still use v1; new code
    uses ``sign_request``.
    """
    ts = timestamp_now(timestamp)
    result = {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: f"{V1}={compute_v1(secret, ts, body)}"}
    if key_id is not None:
        result[KEY_HEADER] = key_id
    return result
