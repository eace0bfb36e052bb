"""What happens to each message of a batch once the service method is done — plain Python.

The rules (``plan_success`` / ``plan_failure``) are kept apart from the nameko extension so they can
be tested without a broker:

* the method returned ``{index: reason}`` (or None) → those messages are dead-lettered with their
  reason, then every message of the batch is acked;
* the method raised → every message is requeued, except one whose quorum-queue delivery count has
  reached the queue's ``x-delivery-limit``: requeueing it once more would make the broker
  dead-letter it *without* our reason header, so it is dead-lettered here with
  ``reason: handler-failed`` and the last exception text, then acked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DELIVERY_LIMIT = 5
"""``x-delivery-limit`` of every Pantau work queue (infra/rabbitmq/topology.json)."""


@dataclass(frozen=True)
class BatchOptions:
    """How one ``batch_consume`` entrypoint batches; ``max_wait`` in seconds."""

    queue: str
    max_size: int
    max_wait: float
    prefetch: int
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    @classmethod
    def from_config(cls, config: Mapping[str, Any], prefix: str | None, *, queue: str,
                    max_size: int, max_wait_ms: float, prefetch: int,
                    delivery_limit: int = DEFAULT_DELIVERY_LIMIT) -> BatchOptions:
        """Defaults from the decorator, overridden by ``{prefix}_QUEUE``, ``_BATCH_SIZE``,
        ``_BATCH_WAIT_MS``, ``_PREFETCH`` and ``_DELIVERY_LIMIT`` in the container config.

        Prefetch is raised to at least ``max_size``: a batch can never be larger than what the
        broker lets us hold unacked.
        """

        def get(name: str, default: Any) -> Any:
            if prefix is None:
                return default
            value = config.get(f"{prefix}_{name}")
            return default if value in (None, "") else value

        size = int(get("BATCH_SIZE", max_size))
        if size < 1:
            raise ValueError(f"{prefix}_BATCH_SIZE must be at least 1, not {size}")
        return cls(queue=str(get("QUEUE", queue)), max_size=size,
                   max_wait=max(0.0, float(get("BATCH_WAIT_MS", max_wait_ms)) / 1000.0),
                   prefetch=max(int(get("PREFETCH", prefetch)), size),
                   delivery_limit=int(get("DELIVERY_LIMIT", delivery_limit)))


@dataclass(frozen=True)
class Settlement:
    """Per batch index: dead-letter (with reason, confirmed first), then ack / requeue."""

    dead_letter: dict[int, Any] = field(default_factory=dict)
    ack: list[int] = field(default_factory=list)
    requeue: list[int] = field(default_factory=list)


def plan_success(size: int, poison: Mapping[int, Any] | None) -> Settlement:
    """The method returned: dead-letter the poison ones, ack everything.

    Raises ``ValueError`` if ``poison`` names an index outside the batch (a broken method; the
    caller then treats the batch as failed).
    """
    poison = dict(poison or {})
    wrong = [index for index in poison if not isinstance(index, int) or not 0 <= index < size]
    if wrong:
        raise ValueError(f"poison indexes {wrong!r} are not positions in a batch of {size}")
    return Settlement(dead_letter=dict(sorted(poison.items())), ack=list(range(size)))


def plan_failure(delivery_counts: Sequence[int], error: str, delivery_limit: int) -> Settlement:
    """The method raised: requeue, unless a message has used up its deliveries.

    ``delivery_counts[i]`` is the quorum queue's ``x-delivery-count`` of message ``i`` (earlier
    returned deliveries). Requeueing once more makes it ``count + 1``; the broker drops or
    dead-letters (without a reason) when that exceeds the limit — so at ``count >= limit`` this
    is the last delivery and we dead-letter it ourselves.
    """
    dead: dict[int, Any] = {}
    requeue: list[int] = []
    for index, count in enumerate(delivery_counts):
        if count >= delivery_limit:
            dead[index] = {"reason": "handler-failed", "detail": error[:2000],
                           "deliveries": count + 1}
        else:
            requeue.append(index)
    return Settlement(dead_letter=dead, ack=sorted(dead), requeue=requeue)


def backoff(consecutive_failures: int, *, base: float = 0.5, cap: float = 5.0) -> float:
    """Pause before requeueing a failed batch: 0.5 s, 1 s, 2 s … at most ``cap``, so a down
    database is not hammered while its messages wait on the queue."""
    if consecutive_failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** (consecutive_failures - 1)))
