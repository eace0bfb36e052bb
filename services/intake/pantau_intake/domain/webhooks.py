"""Department webhooks: which URL may be configured, what a department subscribes to, and the
retry rules of a delivery (plain Python; the clock and randomness are passed in).

Rules (``docs/reliability.md``, "Webhooks"):

* **URL**: ``https://`` with a host; in development also ``http://`` to a loopback address. In
  production the host must not be (or resolve to) a private, loopback, link-local, multicast or
  reserved address (no SSRF into Pantau's own network): ``check_url`` takes the resolver.
* **Subscriptions**: ``refusals`` (``event.rejected``, always on by default), ``status``
  (``case.updated`` of the department's cases), ``overdue`` (``case.overdue``).
* **Outcome of one attempt** (``settle``): 2xx → delivered. 4xx other than 408/429, and any
  3xx (redirects are never followed: a moved receiver is a configuration to fix) → dead at
  once, the status noted — retrying cannot help. 408, 429, 5xx, a timeout or a network error →
  retried after ``Backoff.delay`` (exponential, full jitter in [d/2, d], capped), until the
  delivery is ``retry_for`` old (24 h by default); the first failure after that makes it dead.
* **Order**: per (department, receipt) a delivery is attempted only when no earlier pending one
  exists for the same pair (the store's ``claim_due`` applies it); dead ones do not block.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from pantau_intake.domain.departments import DepartmentRef

REFUSALS, STATUS, OVERDUE = "refusals", "status", "overdue"
SUBSCRIPTIONS = (REFUSALS, STATUS, OVERDUE)
TYPE_OF_SUBSCRIPTION = {REFUSALS: "event.rejected", STATUS: "case.updated",
                        OVERDUE: "case.overdue"}


class WebhookError(ValueError):
    """A webhook configuration that cannot be accepted (the message says why)."""


def parse_subscriptions(text: str) -> tuple[str, ...]:
    """``refusals,status,overdue`` → the known names, in canonical order; unknown → error."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = names - set(SUBSCRIPTIONS)
    if unknown or not names:
        raise WebhookError(f"--events takes a comma list of {', '.join(SUBSCRIPTIONS)} "
                           f"(got {text!r})")
    return tuple(name for name in SUBSCRIPTIONS if name in names)


def event_types(subscriptions: Iterable[str]) -> frozenset[str]:
    return frozenset(TYPE_OF_SUBSCRIPTION[name] for name in subscriptions)


Resolver = Callable[[str], Iterable[str]]
"""host → its IP addresses (``socket.getaddrinfo`` in production)."""


def check_url(url: str, *, production: bool, resolve: Resolver) -> str:
    """The URL if a webhook may be sent there; ``WebhookError`` naming the rule otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookError(f"{url!r}: an absolute https:// URL is required")
    if parts.username or parts.password:
        raise WebhookError(f"{url!r}: no credentials in the URL (the request is signed)")
    addresses = _addresses(host, resolve)
    if parts.scheme == "http":
        if production or not addresses or not all(a.is_loopback for a in addresses):
            raise WebhookError(f"{url!r}: plain http is allowed only to a loopback address in "
                               "development; use https")
        return url
    if production:
        blocked = [str(a) for a in addresses if not is_public(a)]
        if blocked or not addresses:
            raise WebhookError(f"{url!r}: {host} is (or resolves to) a non-public address "
                               f"{', '.join(blocked) or '(none)'}; webhooks go to the internet "
                               "only")
    return url


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified)


def _addresses(host: str, resolve: Resolver) -> list[ipaddress.IPv4Address |
                                                     ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        return [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host)]
    except (OSError, ValueError):
        return []


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: attempt n (1-based) failed → wait in [d/2, d] where
    d = min(cap, base · 2^(n-1)); retried until a delivery is ``retry_for`` old."""

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    retry_for: timedelta = timedelta(hours=24)

    def delay(self, attempts: int, jitter: float) -> timedelta:
        """``jitter`` in [0, 1) (the caller's random source)."""
        ceiling: timedelta = min(self.cap, self.base * (2 ** min(max(0, attempts - 1), 30)))
        return ceiling * (0.5 + 0.5 * jitter)


@dataclass(frozen=True)
class Attempt:
    """What one POST gave: an HTTP status, or an error (timeout, refused, …)."""

    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Settlement:
    state: Literal["delivered", "pending", "dead"]
    next_attempt_at: datetime | None
    note: str


def settle(attempt: Attempt, *, attempts: int, created_at: datetime, now: datetime,
           backoff: Backoff, jitter: float) -> Settlement:
    """The delivery's state after its ``attempts``-th attempt (see the module docstring)."""
    status = attempt.status
    note = f"HTTP {status}" if status is not None else (attempt.error or "error")[:300]
    if status is not None and 200 <= status < 300:
        return Settlement("delivered", None, note)
    if status is not None and (300 <= status < 400 or (
            400 <= status < 500 and status not in (408, 429))):
        return Settlement("dead", None, note + " (not retried)")
    if now - created_at >= backoff.retry_for:
        return Settlement("dead", None, note + f" (retried for {backoff.retry_for})")
    wait = backoff.delay(attempts, jitter)
    if attempt.retry_after is not None:  # 429/503 Retry-After, within the cap
        wait = max(wait, min(backoff.cap, timedelta(seconds=attempt.retry_after)))
    return Settlement("pending", now + wait, note)


@dataclass(frozen=True)
class Webhook:
    """A department's webhook: where, and which event types it receives."""

    department: DepartmentRef
    url: str
    subscriptions: tuple[str, ...] = (REFUSALS,)

    def wants(self, event_type: str) -> bool:
        return event_type in event_types(self.subscriptions)


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to enqueue (the outbox row). ``message_id`` (the CloudEvent's id) makes
    enqueueing idempotent per department; ``receipt`` is the per-case order key."""

    department: DepartmentRef
    message_id: str
    receipt: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class PendingDelivery:
    """A claimed delivery, ready to attempt."""

    id: int
    department: DepartmentRef
    url: str
    receipt: str
    event_type: str
    body: bytes
    attempts: int
    created_at: datetime
