"""Ports of intake's service layer that are not the domain's: what the use cases report.

``EventMetrics`` is how a use case counts what happened to each event without knowing
Prometheus: the adapter is ``pantau_platform.metrics.EventCounters``; ``NoMetrics`` (the default)
and the unit tests' fakes record nothing or record in memory. Labels must stay bounded: pass the
event's type and the *authenticated* sender's jurisdiction and department, never ids.
"""

from __future__ import annotations

from typing import Protocol


class EventMetrics(Protocol):
    def received(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None: ...

    def accepted(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None: ...

    def refused(self, event_type: str | None, jurisdiction: str | None, department: str | None,
                reason: str) -> None: ...

    def dead_lettered(self, queue: str, event_type: str | None, jurisdiction: str | None,
                      department: str | None, reason: str) -> None: ...


class NoMetrics:
    """Records nothing (the default: unit tests and tools need no metrics)."""

    def received(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None:
        return None

    def accepted(self, event_type: str | None, jurisdiction: str | None,
                 department: str | None) -> None:
        return None

    def refused(self, event_type: str | None, jurisdiction: str | None, department: str | None,
                reason: str) -> None:
        return None

    def dead_lettered(self, queue: str, event_type: str | None, jurisdiction: str | None,
                      department: str | None, reason: str) -> None:
        return None
