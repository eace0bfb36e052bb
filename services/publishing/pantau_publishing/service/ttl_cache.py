"""A small time-to-live cache for figures that may be a few seconds old (dashboard statistics).

``get(key, now)`` answers ``(value, computed_at)`` while ``now - computed_at < ttl``, else
``None``; ``put`` stores a value computed at ``now``. The caller passes the time (a wall
clock in the portal, a fake one in tests), so whoever shows a cached figure can say "as of"
when it was computed. At most ``max_entries`` keys (the oldest is dropped first); a TTL of 0
caches nothing. Thread-safe enough for the portal's worker threads: one dict operation each,
and a lost race only computes a figure twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, ttl_seconds: float, max_entries: int = 1024) -> None:
        self.ttl_seconds = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[V, datetime]] = OrderedDict()

    def get(self, key: Hashable, now: datetime) -> tuple[V, datetime] | None:
        found = self._entries.get(key)
        if found is None:
            return None
        age = (now - found[1]).total_seconds()
        if not 0 <= age < self.ttl_seconds:  # expired, or the clock went back: recompute
            self._entries.pop(key, None)
            return None
        return found

    def put(self, key: Hashable, value: V, now: datetime) -> None:
        if self.ttl_seconds <= 0:
            return
        self._entries[key] = (value, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
