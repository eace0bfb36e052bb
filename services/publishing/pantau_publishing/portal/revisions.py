"""One shared revision poll per portal process, and the caps on open live streams.

Every open live stream (``/kasus/{receipt}/events``) watches one case. Instead of one search per
stream per interval, ``RevisionHub`` runs a single poll: every ``interval`` seconds one call of
``fetch(receipts)`` (one Elasticsearch search for all watched cases) and it hands each watching
stream its case's revision. 500 streams on one case or on 500 cases cost one query per interval.

Streams are capped (OWASP API4, unrestricted resource consumption): ``open`` refuses past
``max_per_ip`` streams from one client address (``StreamRefused`` 429) and past ``max_streams``
in the process (503); both carry a ``retry_after`` in seconds. ``Watch.close`` frees the slot
and is idempotent (it is called from the stream's end and from the response's end, whichever
comes first). The poll task starts with the first watch and stops when none are left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)
Fetch = Callable[[list[str]], dict[str, int]]  # receipts -> their revisions (unknown: absent)


class StreamRefused(Exception):
    """Past a cap: ``status`` 429 (this client) or 503 (this process)."""

    def __init__(self, status: int, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


@dataclass(eq=False)
class Watch:
    """One open stream's slot: ``updates`` receives its case's revision after each poll."""

    hub: RevisionHub
    receipt: str
    client: str
    updates: asyncio.Queue[int] = field(default_factory=lambda: asyncio.Queue(maxsize=1))
    closed: bool = False

    def deliver(self, revision: int) -> None:
        if self.updates.full():  # only the newest revision matters
            self.updates.get_nowait()
        self.updates.put_nowait(revision)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub._release(self)


class RevisionHub:
    """The shared poll and the stream caps of one process."""

    def __init__(self, fetch: Fetch, interval: float, max_streams: int, max_per_ip: int,
                 retry_after: int = 30) -> None:
        self._fetch = fetch
        self.interval = interval
        self.max_streams = max_streams
        self.max_per_ip = max_per_ip
        self.retry_after = retry_after
        self._watches: set[Watch] = set()
        self._per_client: Counter[str] = Counter()
        self._latest: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.polls = 0  # how many fetches ran (tests count them)

    @property
    def open_streams(self) -> int:
        return len(self._watches)

    def open(self, receipt: str, client: str) -> Watch:
        """A slot for a stream from ``client`` watching ``receipt``, or ``StreamRefused``."""
        if self._per_client[client] >= self.max_per_ip:
            raise StreamRefused(429, f"at most {self.max_per_ip} live streams per client",
                                self.retry_after)
        if len(self._watches) >= self.max_streams:
            raise StreamRefused(503, "the server has as many live streams open as it serves",
                                self.retry_after)
        watch = Watch(self, receipt, client)
        self._watches.add(watch)
        self._per_client[client] += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return watch

    def known(self, receipt: str) -> int | None:
        """The revision the last poll saw for ``receipt`` (None: not watched or not polled)."""
        return self._latest.get(receipt)

    def _release(self, watch: Watch) -> None:
        self._watches.discard(watch)
        self._per_client[watch.client] -= 1
        if self._per_client[watch.client] <= 0:
            del self._per_client[watch.client]

    async def _poll(self) -> None:
        while self._watches:
            await asyncio.sleep(self.interval)
            watched = sorted({w.receipt for w in self._watches})
            if not watched:
                break
            try:
                self.polls += 1
                revisions = await run_in_threadpool(self._fetch, watched)
            except Exception as exc:  # noqa: BLE001 - streams keep their heartbeat; next poll
                log.warning("live revision poll failed: %s", exc)
                continue
            self._latest = revisions
            for watch in list(self._watches):
                revision = revisions.get(watch.receipt)
                if revision is not None:
                    watch.deliver(revision)

    async def stop(self) -> None:
        """Stop the poll (application shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # shutting down
                await self._task
