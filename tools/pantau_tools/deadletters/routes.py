"""Where a dead letter may be replayed, decided from its provenance alone. Pure.

* died in a department-facing queue (intake's ingress) → back to ``pantau.ingress`` under the key
  it was published with, *as the department user that published it* (``x-pantau-replay-as``,
  honoured by the ingress only from a trusted operator). The caller runs intake's own checks
  first (``IngressHandler.refusal``), so a refusal is reported and the letter stays. No
  authenticated department user → refused;
* died in ``tracking.accepted`` → to that queue (default exchange), only if the body is a valid
  event carrying intake's ``pantaureceived`` stamp (tracking trusts that stamp as the time
  Pantau knew; departments cannot set it, so an event without it was never accepted by intake);
* died in another internal queue (``publishing.cases``) → to that queue;
* anything else (nobody vouches for where it died, an unknown queue) → refused.

Routing never uses a header the publisher could set: the queue comes from the newest ``x-death``
entry, from a Pantau service's own headers or from the tool's own provenance.
"""

from __future__ import annotations

from dataclasses import dataclass

from pantau_contracts import ContractViolation, validate_event
from pantau_contracts.routing import (
    INGRESS_EXCHANGE,
    INTERNAL_QUEUES,
    TRACKING_QUEUE,
    is_department_facing,
)
from pantau_intake.domain.departments import DepartmentRef
from pantau_tools.deadletters.provenance import NOT_AUTHENTICATED, Provenance

DEFAULT_EXCHANGE = ""  # publishes to the queue named by the routing key


class Refusal(Exception):
    """The letter may not be replayed; the message says why."""


@dataclass(frozen=True)
class Route:
    exchange: str
    routing_key: str
    replay_as: DepartmentRef | None = None  # ingress replays: the department acted for

    def describe(self) -> str:
        if self.replay_as is not None:
            return (f"{self.exchange} / {self.routing_key} through intake's checks as "
                    f"{self.replay_as.amqp_user}")
        return f"queue {self.routing_key} (default exchange)"


def route(prov: Provenance, body: bytes) -> Route:
    """The replay route of a letter, or ``Refusal``."""
    queue = prov.died_in
    if not queue:
        raise Refusal("nobody vouches for where this letter died (no broker record, not written "
                      "by a Pantau service or by this tool)")
    if is_department_facing(queue):
        return _ingress(prov, queue)
    if queue == TRACKING_QUEUE:
        _require_accepted(body)
    if queue in INTERNAL_QUEUES:
        return Route(DEFAULT_EXCHANGE, queue)
    raise Refusal(f"it died in {queue!r}, which is not a queue dead letters are replayed to")


def _ingress(prov: Provenance, queue: str) -> Route:
    department = DepartmentRef.from_amqp_user(prov.acting_user)
    if department is None:
        raise Refusal(f"it died in {queue} but was published by "
                      f"{prov.acting_user or NOT_AUTHENTICATED}, not a department user: a "
                      "department's message is only ever replayed as that department")
    if not prov.routing_key:
        raise Refusal("the routing key it was published with is not known")
    return Route(INGRESS_EXCHANGE, prov.routing_key, department)


def _require_accepted(body: bytes) -> None:
    try:
        event = validate_event(body)
    except ContractViolation as exc:
        raise Refusal(f"not a valid event: {exc}") from None
    if event.received is None:
        raise Refusal("it carries no pantaureceived stamp: intake never accepted it")
