"""Scrubbing personal data out of free text that is meant to be public (notes, reasons).

Structured personal data never reaches the public side because the public record is an allowlist
(``payloads.public``). Free text is the remaining leak: a clerk may type an applicant's NIK or phone
into a note. ``redact_text`` removes what looks like personal data, and the exact values tracking
knows for the case (``known``), and is applied again by publishing as a second line of defence.

Patterns: e-mail addresses (also ``budi(at)gmail.com``, ``budi [at] gmail [dot] com``), NIK and
16-digit NPWP (grouped or glued to a word: ``NIK3273…``), 15-digit NPWP (``09.254.294.3-407.000``),
mobile and landline numbers (grouped by spaces, dots, dashes or slashes, ``+62``, area code in
brackets), street addresses (``Jl.``/``Jalan`` …), housing estates and alleys (``Komp.``,
``Perum.``, ``Perumahan``, ``Gg.``, ``Blok C-12``) and ``RT``/``RW``. They are written to leave
public text readable: dates, receipt numbers (``BDG-DPM-2026-000123``), money (``Rp 1.500.000``),
day counts and regulation citations (``Perda 1/2024``, ``PP 16/2021 Pasal 253``) stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pantau_contracts.text import clean_text

MASK = "[disamarkan]"
_MAX_PASSES = 8  # each pass that changes something masks more; real notes settle in one or two

_DIGIT_SEP = r"[\s./-]?"  # digits grouped: 0812-3456-7890, 0812 3456 7890, 0812/3456/7890
_AT = r"(?:\s*[@\uff20]\s*|\s*[\[(]\s*at\s*[\])]\s*)"  # @, [at], (at)
_DOT = r"(?:\.|\s*[\[(]\s*dot\s*[\])]\s*|\s+dot\s+)"  # ., [dot], (dot), " dot "


def _may_hold_at(text: str) -> bool:
    """Necessary for the first e-mail pattern: an at sign, or "at" in brackets."""
    return "@" in text or "\uff20" in text or (
        ("[" in text or "(" in text) and "at" in text.lower())


def _may_hold_at_dot(text: str) -> bool:
    """Necessary for "budi at gmail dot com" (IGNORECASE: no other letter folds to a, d, o, t)."""
    lowered = text.lower()
    return "at" in lowered and "dot" in lowered


_has_digit = re.compile(r"\d").search  # the same \d as the patterns (any Unicode digit)
_PATTERNS = [
    # e-mail, also written around spam filters: budi(at)gmail.com, budi [at] gmail [dot] com
    re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)+", re.IGNORECASE),
    # … and "budi at gmail dot com" (a bare " at " only with a " dot ": English stays readable)
    re.compile(r"[\w.+-]+\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)+", re.IGNORECASE),
    # NIK / KK number / new NPWP: 16 digits, maybe grouped; also glued to a word (NIK3273…)
    re.compile(r"(?<!\d)\d(?:[\s.-]?\d){15}(?!\d)"),
    # NPWP, 15 digits: 09.254.294.3-407.000 or plain (its own grouping: money is 3-3-3)
    re.compile(r"(?<!\d)\d{2}\.?\d{3}\.?\d{3}\.?\d[.-]?\d{3}\.?\d{3}(?!\d)"),
    # mobile phone: 08…, 62 8…, +62 8…, +62 (812) …, grouped by spaces, dots, dashes, slashes
    re.compile(rf"(?<![\d+])(?:\+62|62|0)\s?[\s.-]?\(?8\d{{1,3}}\)?(?:{_DIGIT_SEP}\d){{5,10}}"
               r"(?!\d)"),
    # landline with area code: (022) 7654321, 022-7654321, +62 22 7654321 (area codes start 2-9)
    re.compile(r"(?<![\w+])(?:\+62\s?\(?\d|\(?0[2-79])\d{0,2}\)?[\s./-]?\d{3,4}[\s.-]?\d{2,4}"
               r"(?!\d)"),
    re.compile(r"\b(jalan|jln|jl)\b\.?\s*[^,;\n]{0,60}", re.IGNORECASE),  # street address
    # housing estates and alleys: Komp. Griya Asri, Perum. Bumi Indah, Perumahan …, Gg. Mawar
    re.compile(r"\b(gg|gang|komp|kompl|komplek|kompleks|perum|perumahan)\b\.?\s*[^,;\n]{0,40}",
               re.IGNORECASE),
    # a block in an estate: Blok C-12, Blok A3 No. 5 (a capital or a number: "blok timur" stays)
    re.compile(r"\b[Bb](?i:lok)\.?\s+(?:[A-Z]{1,2}[-\s]?\d{0,3}|\d{1,3}[A-Z]?)\b"
               r"(?:\s*(?i:no|nomor)\.?\s*\d{1,4}[A-Za-z]?\b)?"),
    re.compile(r"\bRT\.?\s*\d{1,3}\s*/?\s*RW\.?\s*\d{1,3}\b", re.IGNORECASE),
    re.compile(r"\bRT\s*/\s*RW\.?\s*\d{1,3}\s*/\s*\d{1,3}\b", re.IGNORECASE),  # RT/RW 003/005
    re.compile(r"\b(RT|RW)\.?\s*\d{1,3}\b", re.IGNORECASE),  # RT 03 on its own
]
# What each pattern cannot match without (None: try it always), checked first because it costs
# far less than the scan: the e-mail patterns' word-run start alone was half of redact_text.
_GATES = [_may_hold_at, _may_hold_at_dot, _has_digit, _has_digit, _has_digit, _has_digit,
          None, None, None, _has_digit, _has_digit, _has_digit]


def redact_text(text: str | None, known: Iterable[str | None] = ()) -> str | None:
    """Return ``text`` with personal data replaced by ``[disamarkan]``; idempotent
    (``redact_text(redact_text(t, k), k) == redact_text(t, k)``). Characters the contract
    refuses in public text (``text.UNSAFE``: controls, non-characters) are dropped first, so
    text stored before the contract refused them comes out publishable.

    ``known`` are exact values to remove wherever they appear (case-insensitive): the applicant's
    name, NIK, phone, e-mail and address as tracking stored them. Values shorter than 3 characters
    are ignored, so a one-letter name cannot blank a whole note.
    """
    if text is None:
        return None
    result = clean_text(text)
    for pattern in _known_patterns(frozenset(v.strip() for v in known
                                             if v and len(v.strip()) >= 3)):
        result = pattern.sub(MASK, result)
    # Until nothing changes: a mask can expose a neighbour that a pattern's look-behind skipped
    # ("08127890+62123456"), and redacting twice must change nothing — the transparency log
    # commits to the note as tracking redacted it, and publishing redacts again.
    for _ in range(_MAX_PASSES):
        before = result
        for pattern, gate in zip(_PATTERNS, _GATES, strict=True):
            if gate is None or gate(result):
                result = pattern.sub(MASK, result)
        if result == before:
            break
    return result


@lru_cache(maxsize=256)
def _known_patterns(values: frozenset[str]) -> tuple[re.Pattern[str], ...]:
    """The patterns that remove ``values``, longest value first (ties in one order in every
    process: the transparency log commits to the redacted note), compiled once per set — a
    case's notes share it. The 256 most recent sets stay in the process's memory, as the
    applicants they come from were while being applied."""
    patterns: list[re.Pattern[str]] = []
    for value in sorted(values, key=lambda v: (-len(v), v)):  # one order in every process
        patterns.append(re.compile(re.escape(value), re.IGNORECASE))
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 8 and digits != value:
            patterns.append(re.compile(r"[\s.-]?".join(map(re.escape, digits))))
        for part in value.split():
            if len(part) >= 4 and part.isalpha() and part[0].isupper():
                patterns.append(re.compile(rf"\b{re.escape(part)}\b", re.IGNORECASE))
    return tuple(patterns)
