"""How a batch method says "not now": :class:`DependencyUnavailable` — plain Python.

Dead letters are for messages that are WRONG. A dependency that is briefly away (the database, an
Elasticsearch cluster, the broker) never settles a message: the batch method raises

    raise DependencyUnavailable("database", detail=str(exc), probe=store.ping)

and ``batch_consume`` holds the batch (no ack, no requeue, no nack — a quorum queue's delivery
count is not used up), marks the process degraded ("waiting for database"), backs off with
jitter, calls ``probe()`` until it answers True, and then hands the SAME batch to the method again.
See :mod:`pantau_nameko.batching`.

This module imports nothing but the standard library, so service entrypoints and adapters may
import it freely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["DependencyUnavailable", "probe_answers"]

log = logging.getLogger(__name__)


class DependencyUnavailable(Exception):
    """The batch cannot be applied now because ``dependency`` is away; it is not the messages'
    fault.

    ``dependency`` names what is away (``"database"``, ``"elasticsearch"``, ``"broker"`` …; it is
    shown in readiness as "waiting for <dependency>"). ``detail`` is the underlying error text (for
    logs). ``probe()`` returns True once the dependency answers again; an exception raised by the
    probe counts as False. Without a probe the batch is simply retried after each back-off.
    """

    def __init__(self, dependency: str, detail: str = "",
                 probe: Callable[[], bool] | None = None) -> None:
        self.dependency = str(dependency) or "dependency"
        self.detail = str(detail)
        self.probe = probe
        super().__init__(self.dependency, self.detail)

    def __str__(self) -> str:
        text = f"{self.dependency} unavailable"
        return f"{text}: {self.detail}" if self.detail else text

    def __reduce__(self) -> tuple[object, ...]:  # pickles without the (unpicklable) probe
        return (type(self), (self.dependency, self.detail))


def probe_answers(probe: Callable[[], bool] | None) -> bool:
    """Run ``probe`` once: True when it answers truthy, or when there is no probe; an exception
    raised by the probe is False (logged at debug level only: an outage is logged elsewhere)."""
    if probe is None:
        return True
    try:
        return bool(probe())
    except Exception:  # noqa: BLE001 - a failing probe is a "not yet"
        log.debug("probe %r raised", probe, exc_info=True)
        return False
