"""``WebhookDispatcher``: one tick of webhook delivery (called by the outcomes process's timer).

A tick claims at most ``batch`` due deliveries (the oldest pending one per (department, receipt):
per-case order), signs each with its department's CURRENT key using the same scheme v2 as
requests to intake (``pantau_contracts.signing.sign_request``: method ``POST``, the webhook
URL's path and query as target, ``Content-Type: application/cloudevents+json``, the body), posts
them through the ``WebhookPoster`` (bounded concurrency, a timeout per attempt, no redirects:
a slow receiver costs one slot for at most the timeout, so it cannot hold back the others), and
settles each by the rules of ``domain.webhooks.settle``. A department without an active key is
retried like a failed attempt (its deliveries wait for a key, then die after ``retry_for``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pantau_contracts.signing import sign_request
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.webhooks import Attempt, Backoff, PendingDelivery, settle
from pantau_intake.service.ports import DeliveryStore, SignedPost, SigningKeys, WebhookPoster

CONTENT_TYPE = "application/cloudevents+json"


def signed_post(delivery: PendingDelivery, key_id: str, secret: str,
                timestamp: float | None = None) -> SignedPost:
    parts = urlsplit(delivery.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": CONTENT_TYPE}
    auth = sign_request(secret, delivery.body, key_id=key_id, target=target, headers=headers,
                        timestamp=timestamp)
    return SignedPost(delivery.url, delivery.body, {**headers, **auth,
                                                    "User-Agent": "Pantau-Webhook/1"})


@dataclass
class TickReport:
    """What one tick did: attempts by (jurisdiction, department, resulting state)."""

    settled: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return sum(self.settled.values())

    def count(self, department: DepartmentRef, state: str) -> None:
        key = (department.jurisdiction, department.department, state)
        self.settled[key] = self.settled.get(key, 0) + 1


class WebhookDispatcher:
    def __init__(self, store: DeliveryStore, keys: SigningKeys, poster: WebhookPoster, *,
                 backoff: Backoff, batch: int = 50, lease: timedelta = timedelta(minutes=2),
                 jitter: Callable[[], float] = random.random) -> None:
        self._store, self._keys, self._poster = store, keys, poster
        self._backoff, self._batch, self._lease, self._jitter = backoff, batch, lease, jitter

    def tick(self, now: datetime) -> TickReport:
        """Attempt the due deliveries once; what became of them."""
        report = TickReport()
        due = self._store.claim_due(now, self._batch, self._lease)
        if not due:
            return report
        posts: list[SignedPost] = []
        keyless: list[PendingDelivery] = []
        ready: list[PendingDelivery] = []
        for delivery in due:
            key = self._keys.current(delivery.department)
            if key is None:
                keyless.append(delivery)
            else:
                ready.append(delivery)
                posts.append(signed_post(delivery, *key))
        results = self._poster.post_all(posts) if posts else []
        for delivery, attempt in [*zip(ready, results, strict=True),
                                  *((d, Attempt(error="the department has no active key"))
                                    for d in keyless)]:
            settlement = settle(
                attempt, attempts=delivery.attempts + 1, created_at=delivery.created_at,
                now=now, backoff=self._backoff, jitter=self._jitter())
            self._store.settle(delivery, settlement, now)
            report.count(delivery.department, settlement.state)
        return report
