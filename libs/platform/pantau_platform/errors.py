"""``causes(exc)``: an exception and what it was raised ``from`` — plain Python.

Each service decides whether an error means "a dependency is away" (the batch is held, never
dead-lettered) by looking at the exception *and* the errors it was raised ``from``: an adapter
wraps a driver's error in its own. The walk follows ``__cause__`` only (an explicit ``raise ...
from``), stops at a cycle and after ``limit`` exceptions, so a pathological chain cannot hang a
consumer. Used by ``pantau_intake.ingress.failures``, ``pantau_tracking.adapters.failures`` and
``pantau_publishing.adapters.search.failures``.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["causes"]


def causes(exc: BaseException, *, limit: int = 8) -> Iterator[BaseException]:
    """``exc``, then its ``__cause__``, then that one's … (at most ``limit``, each once)."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen and len(seen) < limit:
        seen.add(id(error))
        yield error
        error = error.__cause__
