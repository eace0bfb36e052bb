"""Calling tracking's RPC patiently from publishing's command-line tools (the rebuild).

A page of ``list_public_cases`` is asked for again — with back-off (0.5 s doubling to 15 s), for
up to ``patience`` seconds — when tracking does not answer in time (``RpcTimeout``: the process
restarting) or answers that its database is away (a ``RemoteError`` of a transient database
error). Asking for a page again is harmless: it is a read keyed by the last receipt number.
Anything else is raised at once. Imports nameko's exceptions only (no eventlet patching here).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from nameko.exceptions import RemoteError, RpcTimeout

log = logging.getLogger(__name__)
TRANSIENT_REMOTE_ERRORS = frozenset({
    "OperationalError", "InterfaceError", "TimeoutError", "DisconnectionError",
    "StoreUnavailable", "DependencyUnavailable", "ConnectionError"})
Fetch = Callable[[str | None, int], list[dict[str, Any]]]


def transient(exc: BaseException) -> bool:
    """Would asking again later help? (tracking restarting, or its database away)"""
    if isinstance(exc, RpcTimeout):
        return True
    return isinstance(exc, RemoteError) and str(exc.exc_type) in TRANSIENT_REMOTE_ERRORS


def patiently(fetch: Fetch, *, patience: float = 600.0,
              sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic) -> Fetch:
    """``fetch`` retried on transient failures (see the module docstring)."""

    def call(after: str | None, limit: int) -> list[dict[str, Any]]:
        deadline = clock() + patience
        pause = 0.5
        attempts = 0
        while True:
            attempts += 1
            try:
                return fetch(after, limit)
            except Exception as exc:
                if not transient(exc) or clock() + pause > deadline:
                    raise
                if attempts == 1 or attempts % 10 == 0:
                    log.warning("tracking did not answer the page after %r (%s: %s); asking "
                                "again for up to %.0f s", after, type(exc).__name__,
                                str(exc)[:200], max(0.0, deadline - clock()))
                sleep(pause)
                pause = min(pause * 2, 15.0)

    return call
