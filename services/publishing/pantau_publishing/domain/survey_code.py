"""The per-case survey code printed on the status sheet: who holds the sheet may answer the SKM
once for that case.

Contract: ``survey_code(secret, receipt)`` is the first 10 base32 characters (50 bits) of
HMAC-SHA256(secret, "pantau-skm-v1:" + receipt), shown as ``XXXXX-XXXXX``. It is derived, not
stored: nothing about the citizen is kept to issue it. ``code_matches`` compares in constant time
after normalising what a person types (case, spaces, dashes, and the digits 0/1/8 that people
read for the letters O/I/B, which base32 does not use). Without the server secret
(``PANTAU_SURVEY_SECRET``) nobody can compute a code from a receipt number, which is public.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

CONTEXT = b"pantau-skm-v1:"
LENGTH = 10
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def survey_code(secret: bytes, receipt: str) -> str:
    """``ABCDE-FGHIJ`` for ``receipt`` under ``secret``."""
    digest = hmac.new(secret, CONTEXT + receipt.strip().upper().encode(), hashlib.sha256).digest()
    raw = base64.b32encode(digest).decode()[:LENGTH]
    return f"{raw[:5]}-{raw[5:]}"


def normalise(typed: str) -> str:
    """What a person typed, as the code's characters only (upper case, no separators)."""
    kept = "".join(ch for ch in typed.upper() if ch.isalnum())
    return kept.translate(_LOOKALIKES)


def code_matches(secret: bytes, receipt: str, typed: str) -> bool:
    """Is ``typed`` the survey code of ``receipt``? (constant-time comparison)"""
    expected = survey_code(secret, receipt).replace("-", "")
    return hmac.compare_digest(expected.encode(), normalise(typed)[:64].encode())
