"""Authenticating a signed request: key lookup, timestamp window, signature, replay refusal.

The scheme (v2 canonical request, deprecated v1) is ``pantau_contracts.signing``. Contract of
``Authenticator``:

* ``admit(headers, method=, target=)`` runs every check that needs no body, so that an unknown
  caller is refused before a body of up to 5 MiB is read: the three headers present and printable
  ASCII, the timestamp within ``window`` seconds of now, a signature of an allowed scheme (v2;
  v1 only outside binary mode and while ``accept_v1``), a request that has a v2 canonical form,
  and an active key. It returns an ``Admission``;
* ``verify(admission, body)`` checks the HMAC over the body and refuses replays, returning the
  ``Principal`` (key id, department, scheme that verified);
* both raise ``Problem`` 401 (missing/unknown/revoked key, stale timestamp, bad or refused
  signature) or 409 (this exact key+signature was already seen inside the window: a replay);
* both let ``StoreUnavailable`` (key store, ledger) propagate (the edge answers 503).

Replay refusal goes through the ``SignatureLedger`` port: ``remember`` must be an atomic
"insert if absent" so that, with several intake replicas sharing one ledger (the SQL table in
``adapters.seen_signatures``), exactly one of two concurrent uses of a signature wins. The ledger
only needs to remember a signature for ``2 × window`` seconds: after that its timestamp is refused
by the window check anyway. ``SeenSignatures`` is the per-process implementation (tests, or a
single replica).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pantau_contracts import signing as signatures
from pantau_intake.domain import problems
from pantau_intake.domain.authentication import ActiveKey, Principal
from pantau_intake.service.ports import KeyResolver, SignatureLedger


class SeenSignatures:
    """``SignatureLedger`` in process memory: the (key id, signature) pairs seen in the last
    ``2 × window`` seconds, bounded."""

    def __init__(self, window: float, max_entries: int = 200_000) -> None:
        self._window = window
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def remember(self, key_id: str, digest: str, now: float) -> bool:
        """Record the pair; False if it was already there (a replay)."""
        self._expire(now)
        pair = (key_id, digest)
        if pair in self._seen:
            return False
        self._seen[pair] = now
        if len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    def _expire(self, now: float) -> None:
        # Entries are in insertion order, i.e. by time seen: drop from the front.
        horizon = now - 2 * self._window
        while self._seen:
            first = next(iter(self._seen.items()))
            if first[1] >= horizon:
                return
            self._seen.popitem(last=False)


@dataclass(frozen=True)
class Admission:
    """A request whose headers passed every check that needs no body: known active key,
    timestamp inside the window, signatures of an allowed scheme. ``verify`` finishes it."""

    key: ActiveKey
    timestamp: str
    digests: Mapping[str, list[str]]
    """Candidate digests by scheme (only the schemes allowed for this request)."""
    canonical: signatures.CanonicalRequest | None
    """The v2 canonical request without its body digest (None when no v2 signature)."""


class Authenticator:
    """Verifies ``pantau_contracts.signing`` schemes v2 and (if ``accept_v1``, outside binary
    mode) v1 against a ``KeyResolver``, in two steps: ``admit`` before the body is read and
    ``verify`` after (``authenticate`` does both)."""

    def __init__(self, keys: KeyResolver, *, window: float = 300.0,
                 clock: Callable[[], float] = time.time,
                 seen: SignatureLedger | None = None, accept_v1: bool = True) -> None:
        self._keys = keys
        self._window = window
        self._clock = clock
        self._seen: SignatureLedger = seen or SeenSignatures(window)
        self._accept_v1 = accept_v1

    def authenticate(self, headers: Headers, body: bytes, *, method: str = "POST",
                     target: str = "/v1/events") -> Principal:
        """Authenticate one whole request (``admit`` then ``verify``)."""
        return self.verify(self.admit(headers, method=method, target=target), body)

    def admit(self, headers: Headers, *, method: str = "POST",
              target: str = "/v1/events") -> Admission:
        """Every check that needs no body. ``headers``: a mapping (case-insensitive or
        lower-case names) or (name, value) pairs with repeats. Raises a 401 ``Problem``; lets
        ``StoreUnavailable`` from the key resolver propagate."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        found = {name.lower(): value.strip() for name, value in pairs}
        key_id, timestamp, signature = (found.get(n.lower()) for n in _AUTH_HEADERS)
        _require_present(key_id, timestamp, signature)
        assert key_id is not None and timestamp is not None and signature is not None
        self._check_timestamp(timestamp)
        digests = _allowed_digests(signature, binary=_is_binary(pairs),
                                   accept_v1=self._accept_v1)
        canonical = None
        if signatures.V2 in digests:
            try:
                canonical = signatures.CanonicalRequest.of(timestamp, method, target, pairs)
            except signatures.CanonicalError as exc:
                raise problems.unauthenticated(
                    f"the request cannot be signed with v2: {exc}", signatures.SIGNATURE_HEADER,
                    "printable ASCII header values (percent-encode ce-* values) and each "
                    "ce-* header once") from exc
        key = self._keys.resolve(key_id)
        if key is None:
            raise problems.unauthenticated("the key is unknown or revoked", signatures.KEY_HEADER,
                                           "an active key id issued to your department")
        return Admission(key, timestamp, digests, canonical)

    def verify(self, admission: Admission, body: bytes) -> Principal:
        """The HMAC over the body, then replay refusal. Raises ``Problem`` 401/409."""
        key, scheme, digest = admission.key, None, None
        if admission.canonical is not None:
            expected = signatures.compute_v2(key.secret, admission.canonical.for_body(body))
            scheme, digest = signatures.V2, signatures.matching(
                expected, admission.digests[signatures.V2])
        if digest is None and signatures.V1 in admission.digests:
            expected = signatures.compute_v1(key.secret, admission.timestamp, body)
            scheme, digest = signatures.V1, signatures.matching(
                expected, admission.digests[signatures.V1])
        if digest is None or scheme is None:
            raise problems.unauthenticated(
                "the signature does not match the request", signatures.SIGNATURE_HEADER,
                _EXPECTED[signatures.SIGNATURE_HEADER])
        if not self._seen.remember(key.key_id, digest, self._clock()):
            raise problems.replayed("this exact signed request was received before; sign every "
                                    "attempt with a fresh timestamp")
        return Principal(key_id=key.key_id, department=key.department, scheme=scheme)

    def _check_timestamp(self, timestamp: str) -> None:
        if not _TIMESTAMP.match(timestamp):
            raise problems.unauthenticated(f"{signatures.TIMESTAMP_HEADER} is not unix seconds",
                                           signatures.TIMESTAMP_HEADER,
                                           _EXPECTED[signatures.TIMESTAMP_HEADER])
        if abs(self._clock() - float(timestamp)) > self._window:
            raise problems.unauthenticated(
                f"the timestamp is more than {int(self._window)} s away from the server's clock",
                signatures.TIMESTAMP_HEADER, "the current unix time (check the sender's clock)")


Headers = Mapping[str, str] | Iterable[tuple[str, str]]
_AUTH_HEADERS = (signatures.KEY_HEADER, signatures.TIMESTAMP_HEADER, signatures.SIGNATURE_HEADER)


def _require_present(*values: str | None) -> None:
    for name, value in zip(_AUTH_HEADERS, values, strict=True):
        if not value:
            raise problems.unauthenticated(f"the {name} header is missing", name,
                                           _EXPECTED[name])
        # Header bytes beyond ASCII reach us decoded as Latin-1; none of ours may carry them
        # (and a non-ASCII digest would make the constant-time compare raise: a 500).
        if not (value.isascii() and value.isprintable()):
            raise problems.unauthenticated(f"the {name} header is not printable ASCII", name,
                                           _EXPECTED[name])


def _is_binary(pairs: list[tuple[str, str]]) -> bool:
    """Binary content mode: any ``ce-*`` header (as ``http.parsing`` decides too)."""
    return any(name.lower().startswith(signatures.CE_PREFIX) for name, _ in pairs)


def _allowed_digests(signature: str, *, binary: bool, accept_v1: bool) -> dict[str, list[str]]:
    digests = signatures.parse_signature_header(signature)
    v1_only = signatures.V1 in digests and signatures.V2 not in digests
    if binary or not accept_v1:
        digests.pop(signatures.V1, None)
    if digests:
        return digests
    if v1_only and binary:
        detail = ("v1 signatures do not cover binary-mode attributes (ce-* headers) and are "
                  "refused in binary mode: sign the request with v2")
    elif v1_only:
        detail = "v1 signatures are no longer accepted: sign the request with v2"
    else:
        detail = "the X-Pantau-Signature header has no v2= signature"
    raise problems.unauthenticated(detail, signatures.SIGNATURE_HEADER,
                                   _EXPECTED[signatures.SIGNATURE_HEADER])


_TIMESTAMP = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,6})?$")


_EXPECTED = {
    signatures.KEY_HEADER: "the key id issued to your department",
    signatures.TIMESTAMP_HEADER: "the current unix time in seconds, e.g. 1767225600 or "
                                 "1767225600.123",
    signatures.SIGNATURE_HEADER: "v2=<hex HMAC-SHA256(secret, canonical request)>; see "
                                 "'Integrate your department' in the README",
}
