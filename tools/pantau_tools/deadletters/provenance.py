"""Who published a dead letter, where it died and why — from what can be believed. Pure.

A dead letter reaches ``pantau.dead-letter`` one of three ways, and each is vouched for by
someone whose word cannot be forged by the message's publisher:

* **the broker** dead-lettered it (expired, rejected, over the delivery limit): the *newest*
  ``x-death`` entry's ``queue`` and ``reason`` are RabbitMQ's own (a publisher may pre-plant
  entries, and RabbitMQ 3.x keeps a pre-planted entry's exchange, routing keys, count and time when
  its queue and reason match — so only those two are believed), and the AMQP ``user_id`` is the
  message's authenticated publisher (RabbitMQ checks it against the login). Any x-pantau-*
  header on such a letter was set by that publisher: shown, never used, flagged if present;
* **a Pantau service** dead-lettered it itself (``user_id`` in ``services``, no ``x-death``):
  its x-pantau-* headers are its own word, because every service strips inbound x-pantau-* and
  death headers first (``pantau_contracts.routing.dead_letter_headers``);
* **the dead-letter tool** re-published it scrubbed (``user_id`` in ``operators``, with
  ``x-pantau-provenance``): the provenance the tool worked out before scrubbing, as JSON.

Anything else is vouched for by nobody: it may be shown, never replayed. The department user to
act as (``acting_user``) is the authenticated publisher — or, when that publisher was a trusted
operator replaying a letter, the ``x-pantau-replay-as`` it carried (written by the tool from an
earlier provenance; meaningless on anyone else's message).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pantau_contracts.routing import (
    BROKER_DEATH_HEADERS,
    DEAD_LETTERED_AT_HEADER,
    DEAD_LETTERED_BY_HEADER,
    INTAKE_INGRESS_QUEUE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_QUEUE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    ORIGIN_USER_HEADER,
    PROVENANCE_HEADER,
    QUEUE_OF_EXCHANGE,
    REASON_HEADER,
    REPLAY_AS_HEADER,
    is_department_facing,
)

NOT_AUTHENTICATED = "unknown — not authenticated"


@dataclass(frozen=True)
class Trust:
    """Whose word counts: Pantau's service users and the operators running this tool."""

    services: frozenset[str]
    operators: frozenset[str]

    @classmethod
    def parse(cls, services: str, operators: str) -> Trust:
        def names(text: str) -> frozenset[str]:
            return frozenset(n.strip() for n in text.split(",") if n.strip())
        return cls(names(services), names(operators))


@dataclass(frozen=True)
class Letter:
    """What a dead letter carries (``routing_key``: the key it was delivered to the queue with)."""

    user_id: str | None
    routing_key: str
    headers: Mapping[str, Any]


@dataclass(frozen=True)
class BrokerDeath:
    """The newest ``x-death`` entry: ``queue`` and ``reason`` are the broker's; the rest may have
    been pre-planted by the publisher (shown as recorded)."""

    queue: str
    reason: str
    count: int | None
    claimed_time: datetime | None


@dataclass(frozen=True)
class Provenance:
    vouched_by: str | None  # "broker", "service <user>", "scrubbed by <user>"; None: nobody
    publisher: str | None  # the letter's own user_id (authenticated by RabbitMQ)
    died_in: str | None  # the queue it died in, as vouched
    original_user: str | None  # authenticated publisher of the message that died
    acting_user: str | None  # the department user a replay acts as
    routing_key: str | None  # the key it was published with at the origin
    broker: BrokerDeath | None
    pantau_reason: dict[str, Any] | None  # Pantau's own reason (None if not Pantau's word)
    claimed: dict[str, str] = field(default_factory=dict)  # x-pantau-* nobody vouches for
    suspicious: tuple[str, ...] = ()
    dead_at: datetime | None = None  # when it died, as far as can be told

    def to_json(self) -> str:
        """The ``x-pantau-provenance`` header written by ``scrub``."""
        data = asdict(self)
        data.pop("claimed")
        data["dead_at"] = self.dead_at.isoformat() if self.dead_at else None
        if self.broker is not None:
            data["broker"]["claimed_time"] = None
        return json.dumps(data, ensure_ascii=False, default=str)


def text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def newest_death(headers: Mapping[str, Any]) -> BrokerDeath | None:
    deaths = headers.get("x-death")
    if not isinstance(deaths, list) or not deaths or not isinstance(deaths[0], Mapping):
        return None
    entry = deaths[0]  # RabbitMQ puts the death it just recorded first
    count = entry.get("count")
    return BrokerDeath(queue=text(entry.get("queue", "")), reason=text(entry.get("reason", "")),
                       count=count if isinstance(count, int) else None,
                       claimed_time=_time(entry.get("time")))


def provenance(letter: Letter, trust: Trust) -> Provenance:
    """Work out what can be believed about ``letter`` (see the module docstring)."""
    headers = letter.headers
    death = newest_death(headers)
    if death is not None:
        return _broker(letter, death, trust)
    if letter.user_id in trust.operators and PROVENANCE_HEADER in headers:
        return _scrubbed(letter)
    if letter.user_id in trust.services:
        return _service(letter, trust)
    return Provenance(
        vouched_by=None, publisher=letter.user_id, died_in=None, original_user=None,
        acting_user=None, routing_key=None, broker=None, pantau_reason=None,
        claimed=_pantau_headers(headers),
        suspicious=(f"no broker record (x-death) and published by "
                    f"{letter.user_id or NOT_AUTHENTICATED}, not a Pantau service: nothing "
                    "about this letter can be believed",))


def _broker(letter: Letter, death: BrokerDeath, trust: Trust) -> Provenance:
    claimed = _pantau_headers(letter.headers)
    acting = letter.user_id
    if letter.user_id in trust.operators:  # an operator's replay died: whom it acted for
        acting = _replay_as(letter.headers)
        claimed.pop(REPLAY_AS_HEADER, None)
    return Provenance(
        vouched_by="broker", publisher=letter.user_id, died_in=death.queue,
        original_user=letter.user_id, acting_user=acting, routing_key=letter.routing_key,
        broker=death, pantau_reason=None, claimed=claimed,
        suspicious=_disagreements(claimed, death), dead_at=_not_future(death.claimed_time))


def _service(letter: Letter, trust: Trust) -> Provenance:
    headers = letter.headers
    exchange = text(headers.get(ORIGIN_EXCHANGE_HEADER, ""))
    queue = headers.get(ORIGIN_QUEUE_HEADER)
    died_in = text(queue) if queue is not None else QUEUE_OF_EXCHANGE.get(exchange)
    original = headers.get(ORIGIN_USER_HEADER)
    original_user = text(original) if original is not None else None
    acting = _replay_as(headers) if original_user in trust.operators else original_user
    by = text(headers.get(DEAD_LETTERED_BY_HEADER, "?"))
    key = headers.get(ORIGIN_ROUTING_KEY_HEADER)
    return Provenance(
        vouched_by=f"service {letter.user_id} ({by})", publisher=letter.user_id,
        died_in=died_in, original_user=original_user, acting_user=acting,
        routing_key=text(key) if key is not None else None, broker=None,
        pantau_reason=_reason(headers.get(REASON_HEADER)),
        dead_at=_not_future(_time(headers.get(DEAD_LETTERED_AT_HEADER))))


def _scrubbed(letter: Letter) -> Provenance:
    try:
        data = json.loads(text(letter.headers[PROVENANCE_HEADER]))
        broker = data.get("broker")
        return Provenance(
            vouched_by=f"scrubbed by {letter.user_id}; before: {data.get('vouched_by')}",
            publisher=letter.user_id, died_in=data.get("died_in"),
            original_user=data.get("original_user"), acting_user=data.get("acting_user"),
            routing_key=data.get("routing_key"),
            broker=BrokerDeath(broker["queue"], broker["reason"], broker.get("count"), None)
            if broker else None,
            pantau_reason=data.get("pantau_reason"),
            suspicious=tuple(data.get("suspicious") or ()),
            dead_at=_time(data.get("dead_at")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Provenance(None, letter.user_id, None, None, None, None, None, None,
                          suspicious=("unreadable x-pantau-provenance",))


def _pantau_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {k: text(v)[:300] for k, v in headers.items()
            if isinstance(k, str) and k.lower().startswith("x-pantau-")}


def _disagreements(claimed: Mapping[str, str], death: BrokerDeath) -> tuple[str, ...]:
    """A broker-dead-lettered letter carries no Pantau header of ours: each one is the
    publisher's claim, and where it contradicts the broker's record that is said."""
    notes = []
    if REASON_HEADER in claimed:
        notes.append(f"{REASON_HEADER} was set by the publisher, not by Pantau (the broker "
                     f"says: {death.reason} in {death.queue})")
    exchange = claimed.get(ORIGIN_EXCHANGE_HEADER)
    if exchange is not None and QUEUE_OF_EXCHANGE.get(exchange) != _family(death.queue):
        notes.append(f"{ORIGIN_EXCHANGE_HEADER} names {exchange!r} but the broker says it "
                     f"died in {death.queue!r}")
    for name in (ORIGIN_QUEUE_HEADER, ORIGIN_ROUTING_KEY_HEADER, ORIGIN_USER_HEADER,
                 DEAD_LETTERED_BY_HEADER, PROVENANCE_HEADER):
        if name in claimed:
            notes.append(f"{name} was set by the publisher: ignored")
    if any(k in BROKER_DEATH_HEADERS and k != "x-death" for k in claimed):
        notes.append("x-first/last-death headers set by the publisher")
    return tuple(notes)


def _family(queue: str) -> str:
    return INTAKE_INGRESS_QUEUE if is_department_facing(queue) else queue


def _replay_as(headers: Mapping[str, Any]) -> str | None:
    value = headers.get(REPLAY_AS_HEADER)
    return text(value) if value is not None else None


def _reason(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(text(value))
    except ValueError:
        return {"reason": text(value)}
    return parsed if isinstance(parsed, dict) else {"reason": parsed}


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str | bytes):
        try:
            parsed = datetime.fromisoformat(text(value))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _not_future(when: datetime | None) -> datetime | None:
    """A death time in the future is a claim nobody made honestly: unknown (scrubbed soonest)."""
    if when is None or when > datetime.now(UTC):
        return None
    return when
