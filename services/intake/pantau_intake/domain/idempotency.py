"""Which events intake has already accepted, so a retry gets the same answer.

Keyed by CloudEvents identity (source, id) and holding a digest of the event's content plus the
answer given: the same event again is answered the same way without forwarding it a second time;
the same id with different content is a conflict (409).

``AcceptedEvents`` is the port (``service.ports``). Production uses the SQL table shared by every
intake replica (``adapters.accepted_events``), so a retry that lands on another replica is
recognised too.
``RecentEvents`` is a bounded, per-process implementation (LRU, lost on restart) for tests and
for the single-process AMQP ingress.

Ordering contract (callers): look up BEFORE forwarding, record only AFTER the broker confirmed.
A crash (or a store failure) between the confirm and the record means a later retry is
forwarded once more; that is harmless because tracking deduplicates on (source, id)
authoritatively. Recording first would be worse: a broker failure after the record would make
the retry look accepted although nothing reached the broker.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from pantau_contracts import ValidatedEvent

EventKey: TypeAlias = tuple[str, str]
"""(source, id) — CloudEvents identity."""

ACCEPTED = "accepted"


@dataclass(frozen=True)
class AcceptedRecord:
    """What intake remembers about an accepted event: its content digest and the answer given."""

    digest: str
    answer: str = ACCEPTED


def content_digest(event: ValidatedEvent) -> str:
    """A digest of what the event says (attributes and data), independent of JSON formatting."""
    raw = json.loads(event.raw)
    return hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


class RecentEvents:
    """Thread-safe LRU of (source, id) → ``AcceptedRecord``; implements ``AcceptedEvents``."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._items: OrderedDict[EventKey, AcceptedRecord] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, keys: Collection[EventKey]) -> dict[EventKey, AcceptedRecord]:
        found: dict[EventKey, AcceptedRecord] = {}
        with self._lock:
            for key in keys:
                record = self._items.get(key)
                if record is not None:
                    self._items.move_to_end(key)
                    found[key] = record
        return found

    def record(self, records: Mapping[EventKey, AcceptedRecord]) -> None:
        with self._lock:
            for key, record in records.items():
                self._items.setdefault(key, record)  # first accepted content wins
                self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def lookup(self, key: EventKey) -> str | None:
        """The digest remembered for ``key``, or None."""
        record = self.find((key,)).get(key)
        return record.digest if record is not None else None

    def remember(self, key: EventKey, digest: str) -> None:
        self.record({key: AcceptedRecord(digest)})
