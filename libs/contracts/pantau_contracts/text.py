"""Which characters public text may carry, and the checks that keep personal data out of the
fields published verbatim.

* ``UNSAFE``: characters refused in any text a sender gives us — C0 controls except tab and
  line feed (a lone ``\\r`` too: a note's line breaks are ``\\n``. Windows line breaks,
  ``\\r\\n``, are accepted and stored as ``\\n`` by ``normalise_newlines``: most department
  systems run on Windows, and a multi-line note must not cost them a 422), DEL and the C1
  controls, the Unicode non-characters (U+FDD0–U+FDEF and the last two code points of every
  plane) and lone surrogates. One of them pasted from a spreadsheet made every XML feed
  ill-formed, and NUL or a lone surrogate cannot be stored in PostgreSQL at all.
* ``unsafe_character(text)`` names the first such character (``"U+0001 at position 12"``);
  ``check_safe`` is the pydantic validator raising it as a field error.
* ``clean_text(text)``: ``text`` without them (redaction applies it to whatever was stored
  before the contract refused them).
* ``XML_FORBIDDEN`` / ``xml_safe(text)``: what XML 1.0 cannot carry (plus the discouraged
  controls and non-characters), removed — the last line of defence of every XML writer for text
  stored before the contract refused it.
* ``looks_personal(value)``: a value published verbatim (receipt number, actor role) that looks
  like a NIK, a phone number or an e-mail address; ``check_not_personal`` refuses it.
"""

from __future__ import annotations

import re

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff" + _NONCHARACTERS + "]")
"""A character refused in text from a sender (see the module docstring)."""

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
                           + _NONCHARACTERS + "]")
"""Outside XML 1.0's ``Char`` production, or discouraged by it (controls, non-characters)."""

UNSAFE_JSON_PATTERN = ("^(?:[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\uFDD0-\\uFDEF"
                       "\\uFFFE\\uFFFF]|\\r\\n)*$")
"""The refusal for JSON Schema readers (ECMA-262, so only the Basic Multilingual Plane part;
the validator also refuses the other planes' non-characters and lone surrogates)."""


def normalise_newlines(text: str) -> str:
    """Pydantic (before) validator: Windows line breaks become ``\\n``; a lone ``\\r`` stays and
    is refused by ``check_safe``."""
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


def unsafe_character(text: str) -> str | None:
    """``"U+0001 at position 12"`` for the first refused character in ``text``, else None."""
    match = UNSAFE.search(text)
    if match is None:
        return None
    return f"U+{ord(match.group()):04X} at position {match.start() + 1}"


def check_safe(text: str) -> str:
    """Pydantic validator: ``text`` unchanged, or ``ValueError`` naming the refused character."""
    found = unsafe_character(text)
    if found is not None:
        raise ValueError(f"contains a control character or non-character ({found}); remove it "
                         "(text pasted from a spreadsheet or word processor often carries one)")
    return text


def clean_text(text: str) -> str:
    """``text`` without the characters ``UNSAFE`` refuses; ``\r\n`` becomes ``\n``."""
    return UNSAFE.sub("", text.replace("\r\n", "\n"))


def xml_safe(text: str) -> str:
    """``text`` without what XML 1.0 forbids or discourages; ``\\r\\n`` becomes ``\\n``."""
    return XML_FORBIDDEN.sub("", text.replace("\r\n", "\n"))


# A value published verbatim must not *be* personal data. Only letters, digits, dashes (and
# ``_`` in roles) get this far (the types' patterns), so the checks look at digit runs. Grouped
# digits are only suspicious in the groupings people write a phone or an NPWP in: a receipt
# such as ``BDG-20261201-00000123`` (a date and a serial) has 16 digits too.
_ID_NUMBER = re.compile(r"\d{15,}|\d{6}[-_]\d{6}[-_]\d{4}(?!\d)"
                        r"|\d{2}[-_]\d{3}[-_]\d{3}[-_]\d[-_]\d{3}[-_]\d{3}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:62|0)8\d{7,11}(?!\d)"
                    r"|(?<!\d)(?:62[-_]?|0)8\d{1,3}(?:[-_]\d{3,4}){2}(?![-_]?\d)")
_EMAIL = re.compile(r"[@\uff20]|(?:^|[-_])at[-_][a-z0-9]+[-_]dot[-_]", re.IGNORECASE)


def looks_personal(value: str) -> str | None:
    """What ``value`` looks like (``"a NIK or NPWP"``, ``"a phone number"``, ``"an e-mail
    address"``) when it looks like personal data, else None."""
    for pattern, what in ((_ID_NUMBER, "a NIK or NPWP"), (_PHONE, "a phone number"),
                          (_EMAIL, "an e-mail address")):
        if pattern.search(value):
            return what
    return None


def check_not_personal(value: str) -> str:
    """Pydantic validator for fields published verbatim: refuse a value that looks personal."""
    what = looks_personal(value)
    if what is not None:
        raise ValueError(f"looks like {what}; this field is published as it is, so it must "
                         "never carry personal data")
    return value
