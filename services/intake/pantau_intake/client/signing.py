"""Sign HTTP requests to intake exactly as the server verifies them (scheme v1).

    headers = sign(secret, body, key_id="kota-bandung.dpmptsp.dev1")
    httpx.post(url, content=body, headers={**headers, "Content-Type": ...})

Sign every attempt anew (a fresh timestamp): intake accepts each signature once.
"""

from __future__ import annotations

import time

from pantau_intake.domain.signatures import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_header,
)


def sign(secret: str, body: bytes, timestamp: float | None = None, *,
         key_id: str | None = None) -> dict[str, str]:
    """Headers X-Pantau-Timestamp and X-Pantau-Signature (and X-Pantau-Key if ``key_id``).

    Without ``timestamp`` the current time with millisecond precision is used; an int
    ``timestamp`` is sent as whole seconds.
    """
    if timestamp is None:
        ts = f"{time.time():.3f}"
    elif isinstance(timestamp, int):
        ts = str(timestamp)
    else:
        ts = f"{timestamp:.3f}"
    headers = {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: signature_header(secret, ts, body)}
    if key_id is not None:
        headers[KEY_HEADER] = key_id
    return headers
