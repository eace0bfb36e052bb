"""Authenticating a signed request: key lookup, timestamp window, signature, replay refusal.

Contract of ``Authenticator.authenticate(headers, body)``:

* returns the ``Principal`` (key id + department) when the signature verifies with an active
  key of that department and the timestamp is within ``window`` seconds of now;
* raises ``Problem`` 401 (missing/unknown key, revoked key, stale timestamp, bad signature) or
  409 (this exact key+signature was already seen inside the window: a replay);
* lets ``StoreUnavailable`` from the ledger propagate (the edge answers 503).

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pantau_intake.domain import problems, signatures
from pantau_intake.domain.departments import DepartmentRef


@dataclass(frozen=True)
class ActiveKey:
    """A key as the authenticator needs it: the department and the plaintext secret."""

    key_id: str
    department: DepartmentRef
    secret: str


@dataclass(frozen=True)
class Principal:
    """Who sent a request, once authenticated."""

    key_id: str
    department: DepartmentRef


class KeyResolver(Protocol):
    """Port: find an active (not revoked) key by id, with its secret; None if unknown/revoked."""

    def resolve(self, key_id: str) -> ActiveKey | None: ...


class SignatureLedger(Protocol):
    """Port: the memory of (key id, signature) pairs used inside the replay window.

    ``remember`` records the pair seen at ``now`` (unix seconds) and returns True on first use,
    False if the pair is already remembered and not expired (a replay). It must be atomic across
    every process sharing the ledger. May raise ``StoreUnavailable``.
    """

    def remember(self, key_id: str, digest: str, now: float) -> bool: ...


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


class Authenticator:
    """Verifies ``signatures`` scheme v1 against a ``KeyResolver``."""

    def __init__(self, keys: KeyResolver, *, window: float = 300.0,
                 clock: Callable[[], float] = time.time,
                 seen: SignatureLedger | None = None) -> None:
        self._keys = keys
        self._window = window
        self._clock = clock
        self._seen: SignatureLedger = seen or SeenSignatures(window)

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> Principal:
        """Authenticate one request. ``headers`` lookup must be case-insensitive or lower-case."""
        key_id = _header(headers, signatures.KEY_HEADER)
        timestamp = _header(headers, signatures.TIMESTAMP_HEADER)
        signature = _header(headers, signatures.SIGNATURE_HEADER)
        for name, value in ((signatures.KEY_HEADER, key_id),
                            (signatures.TIMESTAMP_HEADER, timestamp),
                            (signatures.SIGNATURE_HEADER, signature)):
            if not value:
                raise problems.unauthenticated(f"the {name} header is missing", name,
                                               _EXPECTED[name])
        assert key_id is not None and timestamp is not None and signature is not None
        if not _TIMESTAMP.match(timestamp):
            raise problems.unauthenticated(f"{signatures.TIMESTAMP_HEADER} is not unix seconds",
                                           signatures.TIMESTAMP_HEADER,
                                           _EXPECTED[signatures.TIMESTAMP_HEADER])
        now = self._clock()
        if abs(now - float(timestamp)) > self._window:
            raise problems.unauthenticated(
                f"the timestamp is more than {int(self._window)} s away from the server's clock",
                signatures.TIMESTAMP_HEADER, "the current unix time (check the sender's clock)")
        key = self._keys.resolve(key_id)
        if key is None:
            raise problems.unauthenticated("the key is unknown or revoked", signatures.KEY_HEADER,
                                           "an active key id issued to your department")
        digests = signatures.parse_signature_header(signature)
        digest = signatures.matches(key.secret, timestamp, body, digests)
        if digest is None:
            raise problems.unauthenticated(
                "the signature does not match the body and timestamp",
                signatures.SIGNATURE_HEADER, _EXPECTED[signatures.SIGNATURE_HEADER])
        if not self._seen.remember(key_id, digest, now):
            raise problems.replayed("this exact signed request was received before; sign every "
                                    "attempt with a fresh timestamp")
        return Principal(key_id=key.key_id, department=key.department)


_TIMESTAMP = re.compile(r"^\d{1,12}(\.\d{1,6})?$")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value.strip() if isinstance(value, str) else None


_EXPECTED = {
    signatures.KEY_HEADER: "the key id issued to your department",
    signatures.TIMESTAMP_HEADER: "the current unix time in seconds, e.g. 1767225600 or "
                                 "1767225600.123",
    signatures.SIGNATURE_HEADER: 'v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>',
}
