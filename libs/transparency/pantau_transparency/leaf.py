"""The canonical log leaf: one public timeline entry of one case (trust spec §4).

Contract
--------
A leaf is the RFC 8785 (JCS, package ``rfc8785``) serialisation of exactly::

    {"v": 1, "receipt_number": str, "seq": int, "status": str, "stage_code": str | null,
     "claimed_at": T, "received_at": T, "counted_at": T, "note": str | null,
     "late_reported": bool}

where ``T`` is ``format_time`` (``%Y-%m-%dT%H:%M:%S.%fZ`` in UTC, the contracts' format),
``claimed_at``/``received_at``/``counted_at`` are the public timeline's ``at``, ``received_at``
and ``counted_at`` (the time the service clock counts the step at) and ``note`` is the redacted
public note exactly as in the public timeline. Leaves hold no floats,
integers only within ±(2^53 - 1), ASCII keys and strings without lone surrogates, so the bytes
are also what ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
gives, UTF-8 encoded — the standalone verifier relies on that (checked by a property test).

``Leaf`` is built from plain values (tracking fills it from a history entry; the portal and the
verifier's reference implementation from the public case API); ``counted_at`` is keyword-only
(three times in a row are too easy to swap positionally); ``parse_leaf`` reads a logged leaf
back and refuses anything that is not exactly this shape or not canonical.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from pantau_transparency.merkle import leaf_hash

LEAF_VERSION = 1
LEAF_KEYS = ("v", "receipt_number", "seq", "status", "stage_code", "claimed_at", "received_at",
             "counted_at", "note", "late_reported")
_TIMES = ("claimed_at", "received_at", "counted_at")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MAX_INT = 2**53 - 1


class LeafError(ValueError):
    """A leaf that is not a canonical version-1 leaf."""


def format_time(moment: datetime) -> str:
    """UTC, microseconds, ``Z`` — identical to ``pantau_contracts.envelope.format_time``."""
    if moment.tzinfo is None:
        raise LeafError("naive datetime in a leaf")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


@dataclass(frozen=True)
class Leaf:
    receipt_number: str
    seq: int
    status: str
    stage_code: str | None
    claimed_at: datetime
    received_at: datetime
    counted_at: datetime = field(kw_only=True)  # required; keyword-only (see the docstring)
    note: str | None
    late_reported: bool

    def __post_init__(self) -> None:
        if not isinstance(self.seq, int) or isinstance(self.seq, bool) \
                or not 0 <= self.seq <= _MAX_INT:
            raise LeafError(f"seq must be an integer in 0..2^53-1, not {self.seq!r}")
        if not isinstance(self.late_reported, bool):
            raise LeafError("late_reported must be a bool")
        for name in ("receipt_number", "status"):
            if not isinstance(getattr(self, name), str):
                raise LeafError(f"{name} must be a string")
        for name in ("stage_code", "note"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise LeafError(f"{name} must be a string or None")
        for name in _TIMES:
            if not isinstance(getattr(self, name), datetime) or getattr(self, name).tzinfo is None:
                raise LeafError(f"{name} must be an aware datetime")

    def to_object(self) -> dict[str, Any]:
        """The JSON object (keys in ``LEAF_KEYS`` order; canonical order comes from JCS)."""
        return {"v": LEAF_VERSION, "receipt_number": self.receipt_number, "seq": self.seq,
                "status": self.status, "stage_code": self.stage_code,
                "claimed_at": format_time(self.claimed_at),
                "received_at": format_time(self.received_at),
                "counted_at": format_time(self.counted_at), "note": self.note,
                "late_reported": self.late_reported}

    def canonical(self) -> bytes:
        """RFC 8785 bytes — the logged data. ``LeafError`` for text JCS refuses (surrogates)."""
        try:
            return rfc8785.dumps(self.to_object())
        except rfc8785.CanonicalizationError as exc:
            raise LeafError(str(exc)) from exc

    def text(self) -> str:
        """The canonical bytes as a string (what ``transparency_*.leaf`` and the API carry).

        Built with ``json.dumps`` (C), which for a leaf's values gives exactly the JCS bytes
        (module docstring; ``test_json_dumps_gives_the_same_bytes`` checks it against
        ``canonical``) at a fraction of ``rfc8785``'s cost — tracking logs a leaf per history
        step (docs/performance.md). ``LeafError`` where ``canonical`` refuses (surrogates)."""
        text = json.dumps(self.to_object(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LeafError("input contains non-UTF-8 codepoints") from exc
        return text

    def hash(self) -> bytes:
        """RFC 9162 leaf hash of the canonical bytes."""
        return leaf_hash(self.canonical())


def canonical_leaf(receipt_number: str, seq: int, status: str, stage_code: str | None,
                   claimed_at: datetime, received_at: datetime, note: str | None,
                   late_reported: bool, *, counted_at: datetime) -> str:
    """Shorthand: the canonical leaf text from plain values."""
    return Leaf(receipt_number, seq, status, stage_code, claimed_at, received_at, note,
                late_reported, counted_at=counted_at).text()


def parse_leaf(text: str) -> dict[str, Any]:
    """The object of a logged leaf; ``LeafError`` unless it has exactly the version-1 keys and
    value types and ``text`` is its canonical form."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise LeafError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict) or set(obj) != set(LEAF_KEYS):
        raise LeafError(f"a leaf has exactly the keys {', '.join(LEAF_KEYS)}")
    if obj["v"] != LEAF_VERSION or isinstance(obj["v"], bool):
        raise LeafError(f"unknown leaf version {obj['v']!r}")
    try:
        leaf = Leaf(obj["receipt_number"], obj["seq"], obj["status"], obj["stage_code"],
                    _parse_time(obj["claimed_at"]), _parse_time(obj["received_at"]), obj["note"],
                    obj["late_reported"], counted_at=_parse_time(obj["counted_at"]))
    except (TypeError, ValueError) as exc:
        raise LeafError(str(exc)) from exc
    if leaf.text() != text:
        raise LeafError("the leaf is not in canonical form")
    return obj


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise LeafError(f"{value!r} is not a timestamp")
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise LeafError(f"{value!r} is not a {TIME_FORMAT} timestamp") from exc
