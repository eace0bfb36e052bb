"""A small memory of recently accepted events, so a retry gets the same answer.

Keyed by CloudEvents identity (source, id) and holding a digest of the event's content: the same
event again is answered "accepted" without forwarding it a second time; the same id with
different content is a conflict (409). The memory is per process, bounded (LRU) and lost on
restart — that is fine because it is an optimisation: tracking deduplicates on (source, id)
authoritatively, so an event forwarded twice is still applied once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from pantau_contracts import ValidatedEvent


def content_digest(event: ValidatedEvent) -> str:
    """A digest of what the event says (attributes and data), independent of JSON formatting."""
    raw = json.loads(event.raw)
    return hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


class RecentEvents:
    """Thread-safe LRU of (source, id) → content digest."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            digest = self._items.get(key)
            if digest is not None:
                self._items.move_to_end(key)
            return digest

    def remember(self, key: tuple[str, str], digest: str) -> None:
        with self._lock:
            self._items[key] = digest
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
