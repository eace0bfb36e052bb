"""What the AMQP ingress is waiting for when a message cannot be handled — pure, no I/O.

* ``StoreUnavailable`` — the accepted-events memory in intake's database could not be consulted
  → ``"database"``;
* ``ForwardError`` / ``PublishError`` — the broker did not confirm a forward (unreachable,
  nack, unroutable) → ``"broker"``;
* anything else → None (unknown: retried a bounded number of times, then ``handler-failed``).

An invalid event is never an exception here: ``IngressHandler`` returns it by index with its
reason (poison) and the shared consumer dead-letters it. A dependency that is away holds the
batch instead (``DependencyUnavailable``): it is never dead-lettered for that.
"""

from __future__ import annotations

from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.service.acceptance import ForwardError
from pantau_platform.amqp import PublishError
from pantau_platform.errors import causes


def unavailable(exc: BaseException) -> str | None:
    """The dependency ``exc`` says is away (``"database"``, ``"broker"``), else None."""
    for error in causes(exc):
        if isinstance(error, StoreUnavailable):
            return "database"
        if isinstance(error, (ForwardError, PublishError)):
            return "broker"
    return None
