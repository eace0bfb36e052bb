"""schemathesis hooks module (``SCHEMATHESIS_HOOKS``) for ``st run`` against intake: a request is
signed with scheme v2 *as it is sent*, i.e. over the exact bytes and headers of the prepared
request, with the key in ``PANTAU_ST_KEY_ID`` / ``PANTAU_ST_SECRET``.

schemathesis sends the three documented auth headers (``X-Pantau-Key`` with the real key id from
its configuration, ``-Timestamp`` and ``-Signature`` with placeholders); a request carrying all
three with that key id gets a real timestamp and signature. A request where schemathesis left one
out or put in a key of its own on purpose (checks ``missing_required_header``, ``ignored_auth``,
negative data) goes out as it is, and intake must refuse it.

Only loaded into the ``st`` process of ``test_openapi_schemathesis``; it wraps
``requests.Session.send`` there, the one place where the final request exists.
"""

from __future__ import annotations

import os
from typing import Any

import requests

import tests.serial_ast  # noqa: F401 - one ast.parse at a time in st's threads
from pantau_contracts.signing import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CanonicalError,
    sign,
    sign_request,
)

AUTH_HEADERS = (KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)

_send = requests.Session.send


def _signed_send(self: requests.Session, request: requests.PreparedRequest,
                 **kwargs: Any) -> requests.Response:
    key_id, secret = os.environ["PANTAU_ST_KEY_ID"], os.environ["PANTAU_ST_SECRET"]
    if not all(name in request.headers for name in AUTH_HEADERS) or \
            request.headers[KEY_HEADER] != key_id:
        return _send(self, request, **kwargs)
    body = request.body or b""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    headers = {name: str(value) for name, value in request.headers.items()}
    try:
        auth = sign_request(secret, raw, key_id=key_id, method=str(request.method),
                            target=str(request.path_url), headers=headers)
    except CanonicalError:  # e.g. a generated non-ASCII ce-* value: v1 (intake answers 401)
        auth = sign(secret, raw, key_id=key_id)
    request.headers.update(auth)
    return _send(self, request, **kwargs)


requests.Session.send = _signed_send  # type: ignore[method-assign]
