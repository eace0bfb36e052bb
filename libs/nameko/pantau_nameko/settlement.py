"""What happens to each message of a batch once the service method is done — plain Python.

The rules (``plan_success`` / ``plan_failure``) are kept apart from the nameko extension so they can
be tested without a broker:

* the method returned ``{index: reason}`` (or None, or ``Failures``) → those messages are
  dead-lettered with their reason, then (``Failures.then``) what must follow a confirmed dead
  letter runs — e.g. telling the sender why — and then every message of the batch is acked;
* the method raised → every message is requeued, except one whose quorum-queue delivery count has
  reached the queue's ``x-delivery-limit``: requeueing it once more would make the broker
  dead-letter it *without* our reason header, so it is dead-lettered here with
  ``reason: handler-failed`` and the last exception text, then acked.

Before a raised batch is settled at all, :class:`RetryPolicy` decides (``decide``):

* ``DependencyUnavailable`` (kind ``"dependency"``) → ``"hold"``: the batch is kept unsettled
  while the dependency is away, however long that takes;
* anything else (kind ``"unknown"``) → ``"retry"`` in-process while the batch has failed at most
  ``unknown_retries`` times, then ``"fail"`` (the requeue / ``handler-failed`` rules above).

Pauses use full jitter (``delay``): a uniform draw in [0, min(cap, base · 2^(attempt-1))].
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pantau_nameko.failures import DependencyUnavailable

DEFAULT_DELIVERY_LIMIT = 5
"""``x-delivery-limit`` of every Pantau work queue (infra/rabbitmq/topology.json)."""
DEFAULT_UNKNOWN_RETRIES = 3
"""In-process retries of a batch whose method raised an unknown exception
(``X_UNKNOWN_RETRIES``)."""

Kind = Literal["dependency", "unknown"]
Decision = Literal["hold", "retry", "fail"]
HOLD: Decision = "hold"
RETRY: Decision = "retry"
FAIL: Decision = "fail"


@dataclass(frozen=True)
class BatchOptions:
    """How one ``batch_consume`` entrypoint batches; ``max_wait`` in seconds."""

    queue: str
    max_size: int
    max_wait: float
    prefetch: int
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT
    unknown_retries: int = DEFAULT_UNKNOWN_RETRIES
    extra_queues: tuple[str, ...] = ()

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue consumed: ``queue`` first, then ``extra_queues`` (no duplicates)."""
        return tuple(dict.fromkeys((self.queue, *self.extra_queues)))

    @classmethod
    def from_config(cls, config: Mapping[str, Any], prefix: str | None, *, queue: str,
                    max_size: int, max_wait_ms: float, prefetch: int,
                    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
                    unknown_retries: int = DEFAULT_UNKNOWN_RETRIES,
                    extra_queues: tuple[str, ...] = ()) -> BatchOptions:
        """Defaults from the decorator, overridden by ``{prefix}_QUEUE``, ``_EXTRA_QUEUES`` (a
        list or a comma-separated string), ``_BATCH_SIZE``, ``_BATCH_WAIT_MS``, ``_PREFETCH``,
        ``_DELIVERY_LIMIT`` and ``_UNKNOWN_RETRIES`` in the container config.

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
        retries = int(get("UNKNOWN_RETRIES", unknown_retries))
        if retries < 0:
            raise ValueError(f"{prefix}_UNKNOWN_RETRIES must not be negative, not {retries}")
        extra = get("EXTRA_QUEUES", extra_queues)
        if isinstance(extra, str):
            extra = [name.strip() for name in extra.split(",")]
        return cls(queue=str(get("QUEUE", queue)), max_size=size,
                   extra_queues=tuple(str(name) for name in extra if name),
                   max_wait=max(0.0, float(get("BATCH_WAIT_MS", max_wait_ms)) / 1000.0),
                   prefetch=max(int(get("PREFETCH", prefetch)), size),
                   delivery_limit=int(get("DELIVERY_LIMIT", delivery_limit)),
                   unknown_retries=retries)


@dataclass(frozen=True)
class Failures:
    """What a batched method returns when it has more to say than ``{index: reason}``.

    ``by_index`` are the poison messages and their reasons. ``then`` runs after their dead letters
    are confirmed and before the batch is acked: what may only follow a dead letter (intake's
    ``event.rejected`` feedback: a department must never hear of a refusal whose dead letter was
    lost). It runs at least once per refusal (a crash before the ack brings the batch back);
    an exception from it is logged, never unsettles the batch (the dead letters are out).
    """

    by_index: Mapping[int, Any] = field(default_factory=dict)
    then: Callable[[], None] | None = None


@dataclass(frozen=True)
class Settlement:
    """Per batch index: dead-letter (with reason, confirmed first), ``then``, ack / requeue."""

    dead_letter: dict[int, Any] = field(default_factory=dict)
    ack: list[int] = field(default_factory=list)
    requeue: list[int] = field(default_factory=list)
    then: Callable[[], None] | None = None


def plan_success(size: int, poison: Mapping[int, Any] | Failures | None) -> Settlement:
    """The method returned: dead-letter the poison ones, (``Failures.then``), ack everything.

    Raises ``ValueError`` if ``poison`` names an index outside the batch (a broken method; the
    caller then treats the batch as failed).
    """
    then = poison.then if isinstance(poison, Failures) else None
    poison = dict((poison.by_index if isinstance(poison, Failures) else poison) or {})
    wrong = [index for index in poison if not isinstance(index, int) or not 0 <= index < size]
    if wrong:
        raise ValueError(f"poison indexes {wrong!r} are not positions in a batch of {size}")
    return Settlement(dead_letter=dict(sorted(poison.items())), ack=list(range(size)), then=then)


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


def classify(exc: BaseException | None) -> Kind:
    """``"dependency"`` for :class:`DependencyUnavailable`, ``"unknown"`` for anything else
    (including a method that broke its return contract)."""
    return "dependency" if isinstance(exc, DependencyUnavailable) else "unknown"


@dataclass(frozen=True)
class RetryPolicy:
    """What to do with a batch whose method raised, and how long to pause first."""

    unknown_retries: int = DEFAULT_UNKNOWN_RETRIES
    base: float = 0.5
    cap: float = 15.0

    def decide(self, kind: Kind, unknown_failures: int) -> Decision:
        """``kind`` of the latest exception; ``unknown_failures`` = how many times this batch has
        failed with an unknown exception so far, the latest one included.

        A dependency outage always holds (it never uses up a retry); an unknown failure is
        retried while ``unknown_failures <= unknown_retries`` — so the method runs at most
        ``unknown_retries + 1`` times — and then fails (requeue / ``handler-failed``)."""
        if kind == "dependency":
            return HOLD
        return RETRY if unknown_failures <= self.unknown_retries else FAIL

    def ceiling(self, attempt: int) -> float:
        """The largest pause before retry/probe number ``attempt`` (1, 2, …): base doubling, at
        most ``cap``."""
        if attempt <= 0:
            return 0.0
        return float(min(self.cap, self.base * 2 ** min(attempt - 1, 62)))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, ``ceiling(attempt)``], so a fleet of consumers waiting for
        the same database does not probe it in lockstep."""
        return rand() * self.ceiling(attempt)
