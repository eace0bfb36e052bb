"""schemathesis hooks module (``SCHEMATHESIS_HOOKS``) for ``st run`` against the portal.

One failure is not the portal's: a fuzzed request that the HTTP server itself refuses before
the application sees it (uvicorn's h11 parser: a request line and headers over its 16 KiB
limit, or bytes HTTP/1.1 does not allow) is answered by uvicorn with its own
``400 text/plain`` "Invalid HTTP request received." — a protocol-level refusal, the same a
reverse proxy would give (with its own body), which no route or exception handler can shape into
problem+json. Such a failure is dropped; every other failure on the same operation is kept.
"""

from __future__ import annotations

from typing import Any

import schemathesis

import tests.serial_ast  # noqa: F401 - one ast.parse at a time in st's threads

PROTOCOL_REFUSAL = b"Invalid HTTP request received."


@schemathesis.hook
def filter_failure(_context: Any, _failure: Any, _case: Any, response: Any) -> bool:
    refused_by_server = (response.status_code == 400
                         and response.content.strip() == PROTOCOL_REFUSAL)
    return not refused_by_server
