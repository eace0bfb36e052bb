"""Scrubbing personal data out of free text that is meant to be public (notes, reasons).

Structured personal data never reaches the public side because the public record is an allowlist
(``payloads.public``). Free text is the remaining leak: a clerk may type an applicant's NIK or phone
into a note. ``redact_text`` removes what looks like personal data, and the exact values tracking
knows for the case (``known``), and is applied again by publishing as a second line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[disamarkan]"
_MAX_PASSES = 8  # each pass that changes something masks more; real notes settle in one or two

_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail
    re.compile(r"(?<!\w)\d(?:[\s.-]?\d){15}(?!\d)"),  # NIK / KK number: 16 digits, maybe spaced
    re.compile(r"(?<![\w+])(\+62|62|0)[\s.-]?8\d(?:[\s.-]?\d){6,11}(?!\d)"),  # mobile phone
    re.compile(r"(?<![\w+])(\+62|0)\d{1,3}[\s.-]?\d{5,8}(?!\d)"),  # landline with area code
    re.compile(r"\b(jalan|jln|jl)\b\.?\s*[^,;\n]{0,60}", re.IGNORECASE),  # street address
    re.compile(r"\b(gg|gang|komplek|perum)\b\.?\s*[^,;\n]{0,40}", re.IGNORECASE),
    re.compile(r"\bRT\.?\s*\d{1,3}\s*/?\s*RW\.?\s*\d{1,3}\b", re.IGNORECASE),
]


def redact_text(text: str | None, known: Iterable[str | None] = ()) -> str | None:
    """Return ``text`` with personal data replaced by ``[disamarkan]``; idempotent
    (``redact_text(redact_text(t, k), k) == redact_text(t, k)``).

    ``known`` are exact values to remove wherever they appear (case-insensitive): the applicant's
    name, NIK, phone, e-mail and address as tracking stored them. Values shorter than 3 characters
    are ignored, so a one-letter name cannot blank a whole note.
    """
    if text is None:
        return None
    result = text
    for value in sorted({v.strip() for v in known if v and len(v.strip()) >= 3}, key=len,
                        reverse=True):
        result = re.sub(re.escape(value), MASK, result, flags=re.IGNORECASE)
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 8 and digits != value:
            result = re.sub(r"[\s.-]?".join(map(re.escape, digits)), MASK, result)
        for part in value.split():
            if len(part) >= 4 and part.isalpha() and part[0].isupper():
                result = re.sub(rf"\b{re.escape(part)}\b", MASK, result, flags=re.IGNORECASE)
    # Until nothing changes: a mask can expose a neighbour that a pattern's look-behind skipped
    # ("08127890+62123456"), and redacting twice must change nothing — the transparency log
    # commits to the note as tracking redacted it, and publishing redacts again.
    for _ in range(_MAX_PASSES):
        before = result
        for pattern in _PATTERNS:
            result = pattern.sub(MASK, result)
        if result == before:
            break
    return result
