"""Ingesting a batch of AMQP messages from intake's ingress queues (the AMQP path), framework-free.

Contract of ``IngressHandler.handle(messages)`` → ``IngressBatch`` (one outcome per message, in
order):

* a valid event whose routing key is ``{jurisdiction}.{department}.{type}`` of its ``source`` and
  whose ``user_id`` is that department's AMQP user is forwarded to ``pantau.accepted`` →
  ``"accepted"``. Every new event of the batch is forwarded in one go, in the batch's order, and
  the call returns only once the broker confirmed them all;
* a body over ``MAX_EVENT_BYTES`` (256 KiB) is refused with reason ``too-large`` before it is
  parsed at all;
* anything else is *refused* (JSON holding a lone ``"\\ud800"`` surrogate escape too, refused
  before validation, naming its field) → ``"refused"``, and ``IngressBatch.refused`` holds its
  refusal by index. Nothing is dead-lettered here: the caller (the shared batch consumer)
  dead-letters every refused message with ``refusal.as_dict()`` as the reason, confirmed, and
  only then calls ``tell(batch)``, which sends each authenticated sender its ``event.rejected``
  record on ``pantau.feedback``. A department never hears of a refusal whose dead letter could
  still be lost;
* a retry of an event already accepted (same source, id and content, per the ``AcceptedEvents``
  memory — one lookup per batch — or earlier in the same batch) is not forwarded again →
  ``"duplicate"``; the same id with other content is refused (``event-id-conflict``);
* if the broker does not confirm the forward, or the accepted-events memory cannot be consulted
  (``StoreUnavailable``), the exception propagates and the caller holds the batch and hands it
  over again (nothing is acked before it is safely elsewhere; events forwarded before the failure
  come back as duplicates, which tracking recognises). A memory that cannot be *written* after
  the confirm is only logged: the events are accepted; a retry is forwarded again and tracking
  drops the duplicate.

Metrics (the ``EventMetrics`` port: received, accepted, refused, with the sender's labels) are
counted when the batch has gone through ``handle``, so a batch held because the broker or the
memory was away counts once. (One whose dead letters then fail to be confirmed is handed over
again and counted again: rare, and an over-count, never a loss.)

Received time and the rules that use it: the ``ReceivedClock`` is read when the ingress takes
the message. The event is validated as *inbound* (one carrying ``pantaureceived`` is refused:
only intake sets it), an event claiming a ``time`` later than the received time plus
``max_future_skew`` seconds is refused (both ``invalid-event``), and a department may only use
its own receipt numbers (``authorise``: ``forbidden``). The idempotency digest is computed on
the event as the department sent it; what is forwarded is that event stamped with
``pantaureceived`` = the received time.

Operator replays: a message published by a trusted user (``trusted_users``, e.g. the ``pantau``
operator account used by ``pantau_tools.deadletters replay``) is handled *as the department
named in its ``x-pantau-replay-as`` header* — the authenticated ``user_id`` of the message that
died, which the tool read from the broker's record — never as the event's own department (that
let an operator replay launder one department's message into another's name). Without that
header, or naming no department user, it is refused (``unknown-sender``); the header on anyone
else's message means nothing. It is otherwise validated the same way, the inbound rule
included: a letter dead-lettered here is the department's message as sent (stamping happens
only on forward), so a legitimate replay never carries ``pantaureceived``; one that does is
refused like any other. ``refusal(message)`` runs the same checks without forwarding or
telling anything (the tool's pre-check before a replay). Letters dead-lettered
downstream (already stamped) are replayed to the queue they died in, not through the ingress,
and keep their stamp. A replayed event is stamped with the time of the replay: that is when
intake accepted it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pantau_contracts import (
    ContractViolation,
    FieldProblem,
    ValidatedEvent,
    stamp_received,
    validate_event,
)
from pantau_contracts.envelope import MAX_EVENT_BYTES
from pantau_contracts.routing import REPLAY_AS_HEADER, department_key
from pantau_intake.domain import surrogates
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.idempotency import (
    AcceptedRecord,
    EventKey,
    RecentEvents,
    content_digest,
)
from pantau_intake.domain.messages import ReceivedMessage, Refusal, RefusalRecord
from pantau_intake.domain.problems import Problem
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.domain.timing import (
    DEFAULT_MAX_FUTURE_SKEW_SECONDS,
    ReceivedClock,
    refuse_future_time,
    utc_now,
)
from pantau_intake.service.authorisation import authorise
from pantau_intake.service.ports import (
    AcceptedEvents,
    EventMetrics,
    Forwarder,
    NoMetrics,
    RefusalFeedback,
    ServiceDirectory,
)

log = logging.getLogger(__name__)

JSON_TYPES = ("application/cloudevents+json", "application/json", "")


@dataclass(frozen=True)
class Refused:
    """One refused message: why, and what its sender is told (None: nobody authenticated)."""

    refusal: Refusal
    told: tuple[DepartmentRef, RefusalRecord] | None = None


@dataclass(frozen=True)
class IngressBatch:
    """What became of each message of a batch: ``outcomes[i]`` is ``"accepted"``,
    ``"duplicate"`` or ``"refused"``; ``refused`` holds the refused ones by index."""

    outcomes: tuple[str, ...] = ()
    refused: Mapping[int, Refused] = field(default_factory=dict)

    def dead_letter_reasons(self) -> dict[int, dict[str, Any]]:
        """The ``x-pantau-reason`` of each refused message, by index (failures by index)."""
        return {index: refused.refusal.as_dict() for index, refused in self.refused.items()}

    def counts(self) -> dict[str, int]:
        return {outcome: self.outcomes.count(outcome)
                for outcome in ("accepted", "duplicate", "refused")}


@dataclass
class _Draft:
    """A batch under way: outcomes so far, refusals, the events to forward."""

    outcomes: list[str]
    refused: dict[int, Refused] = field(default_factory=dict)
    fresh: list[tuple[ValidatedEvent, str, DepartmentRef | None]] = field(default_factory=list)
    digests: dict[EventKey, str] = field(default_factory=dict)
    # metric updates, applied once the batch is through: a batch held (database or broker
    # away) and handled again is counted once, not once per attempt
    counts: list[tuple[Callable[..., None], tuple[Any, ...]]] = field(default_factory=list)

    def count(self, metric: Callable[..., None], *labels: Any) -> None:
        self.counts.append((metric, labels))


class IngressHandler:
    """Check, deduplicate, stamp and forward a batch; see the module docstring."""

    def __init__(self, directory: ServiceDirectory, forwarder: Forwarder,
                 feedback: RefusalFeedback, trusted_users: Iterable[str] = (),
                 accepted: AcceptedEvents | None = None, *, clock: ReceivedClock = utc_now,
                 max_future_skew: float = DEFAULT_MAX_FUTURE_SKEW_SECONDS,
                 metrics: EventMetrics | None = None) -> None:
        self._accepted: AcceptedEvents = accepted or RecentEvents()
        self._metrics: EventMetrics = metrics or NoMetrics()
        self._directory = directory
        self._forwarder = forwarder
        self._feedback = feedback
        self._trusted = frozenset(u for u in trusted_users if u)
        self._clock = clock
        self._max_future_skew = max_future_skew

    def handle(self, messages: Sequence[ReceivedMessage]) -> IngressBatch:
        """The fate of every message (see the module docstring); each is counted on the
        ``EventMetrics`` port with its sender's labels."""
        received = self._clock()
        draft = _Draft(outcomes=["refused"] * len(messages))
        checked: dict[int, tuple[ValidatedEvent, DepartmentRef | None]] = {}
        for index, message in enumerate(messages):
            sender = self.sender(message)
            try:
                event = self._check(message, sender, received)
            except _Refused as refused:
                draft.count(self._metrics.received, _type_of(refused.event), *_where(sender))
                self._refuse(draft, index, message, sender, refused)
                continue
            except Exception as exc:  # noqa: BLE001 - see _unreadable
                draft.count(self._metrics.received, None, *_where(sender))
                self._refuse(draft, index, message, sender, _unreadable(exc))
                continue
            draft.count(self._metrics.received, event.type, *_where(sender))
            checked[index] = (event, sender)
        known = self._accepted.find({event.dedup_key for event, _ in checked.values()})
        draft.digests = {key: record.digest for key, record in known.items()}
        for index, (event, sender) in checked.items():
            self._deduplicate(draft, index, messages[index], event, sender)
        self._forward(draft, received)
        for metric, labels in draft.counts:
            metric(*labels)
        return IngressBatch(tuple(draft.outcomes), draft.refused)

    def tell(self, batch: IngressBatch) -> None:
        """Send each refused message's sender its ``event.rejected`` record — only once the
        refused messages' dead letters are confirmed (the caller's duty). One call per
        department (a batch is usually one department's queue), in the batch's order."""
        by_department: dict[DepartmentRef, list[RefusalRecord]] = {}
        for refused in batch.refused.values():
            if refused.told is not None:
                department, record = refused.told
                by_department.setdefault(department, []).append(record)
        for department, records in by_department.items():
            self._feedback.feedback(department, records)

    def sender(self, delivery: ReceivedMessage) -> DepartmentRef | None:
        """The department a message speaks for: its ``user_id``'s, or for a trusted operator's
        replay the one its ``x-pantau-replay-as`` header names; None if neither is a department."""
        if delivery.user_id not in self._trusted:
            return DepartmentRef.from_amqp_user(delivery.user_id)
        named = delivery.headers.get(REPLAY_AS_HEADER)
        if isinstance(named, bytes):
            named = named.decode("utf-8", "replace")
        return DepartmentRef.from_amqp_user(named if isinstance(named, str) else None)

    def refusal(self, delivery: ReceivedMessage) -> Refusal | None:
        """Why ``handle`` would refuse ``delivery`` (not counting the accepted-events memory),
        or None; nothing is forwarded, dead-lettered or told."""
        try:
            self._check(delivery, self.sender(delivery), self._clock())
        except _Refused as refused:
            return refused.refusal
        return None

    def _check(self, delivery: ReceivedMessage, sender: DepartmentRef | None,
               received: datetime) -> ValidatedEvent:
        if len(delivery.body) > MAX_EVENT_BYTES:  # before any parsing: its cost is bounded
            raise _Refused(Refusal("too-large", f"the message is {len(delivery.body)} bytes",
                                     (FieldProblem("body", f"{len(delivery.body)} bytes",
                                                   f"at most {MAX_EVENT_BYTES} bytes"),)))
        media = (delivery.content_type or "").split(";")[0].strip().lower()
        if media not in JSON_TYPES:
            raise _Refused(Refusal("unsupported-content-type",
                                     f"content type {delivery.content_type!r} is not accepted", (
                FieldProblem("content_type", f"{delivery.content_type!r}",
                             "application/cloudevents+json"),)))
        _refuse_lone_surrogates(delivery.body)
        event = _validated(delivery.body, received, self._max_future_skew)
        expected = department_key(event.jurisdiction, event.department, event.type)
        if delivery.routing_key != expected:
            raise _Refused(Refusal(
                "routing-key-mismatch", "the routing key does not match the event",
                (FieldProblem("routing_key", f"{delivery.routing_key!r}", expected),)), event)
        if sender is None:
            raise _Refused(_unknown_sender(delivery, event, delivery.user_id in self._trusted),
                           event)
        try:
            authorise(sender, event, self._directory)
        except Problem as problem:
            raise _Refused(Refusal("forbidden", problem.detail, problem.errors), event) from None
        return event

    def _deduplicate(self, draft: _Draft, index: int, message: ReceivedMessage,
                     event: ValidatedEvent, sender: DepartmentRef | None) -> None:
        """New → to forward; a retry (known, or earlier in this batch) → duplicate; the same id
        with other content → refused."""
        digest = content_digest(event)
        known = draft.digests.get(event.dedup_key)
        if known == digest:
            draft.outcomes[index] = "duplicate"  # already forwarded: not again
        elif known is not None:
            self._refuse(draft, index, message, sender, _Refused(Refusal(
                "event-id-conflict", "the id was already used for a different event",
                (FieldProblem("id", "already used for a different event",
                              "a new id for a new event; the same id only for a retry"),)),
                event))
        else:
            draft.digests[event.dedup_key] = digest
            draft.fresh.append((event, digest, sender))
            draft.outcomes[index] = "accepted"

    def _forward(self, draft: _Draft, received: datetime) -> None:
        """Forward the batch's new events in order (confirmed), then remember them."""
        if not draft.fresh:
            return
        self._forwarder.forward([stamp_received(event, received) for event, _, _ in draft.fresh])
        for event, _, sender in draft.fresh:
            draft.count(self._metrics.accepted, event.type, *_where(sender))
        try:  # only after the confirm; a failure here just means a retry is forwarded again
            self._accepted.record({event.dedup_key: AcceptedRecord(digest)
                                   for event, digest, _ in draft.fresh})
        except StoreUnavailable as exc:
            log.warning("forwarded %d event(s) but could not record them: %s",
                        len(draft.fresh), exc)

    def _refuse(self, draft: _Draft, index: int, message: ReceivedMessage,
                sender: DepartmentRef | None, refused: _Refused) -> None:
        draft.outcomes[index] = "refused"
        draft.count(self._metrics.refused, _type_of(refused.event), *_where(sender),
                    refused.refusal.reason)
        told = None
        if sender is not None:  # else nobody authenticated to tell; the dead letter keeps it
            told = (sender, self._record(message, refused.refusal, refused.event))
        draft.refused[index] = Refused(refused.refusal, told)

    def _record(self, message: ReceivedMessage, refusal: Refusal,
                event: ValidatedEvent | dict[str, Any] | None) -> RefusalRecord:
        if isinstance(event, ValidatedEvent):
            event_id, source, type_ = event.id, event.source, event.type
            receipt = event.subject
        else:
            ids = event or {}
            event_id = str(ids.get("id") or message.message_id or "")
            source, type_ = str(ids.get("source") or ""), str(ids.get("type") or "")
            receipt = None
        return RefusalRecord(event_id=event_id, event_source=source, event_type=type_,
                             receipt_number=receipt, refusal=refusal, refused_at=self._clock())

def _type_of(event: ValidatedEvent | dict[str, Any] | None) -> str | None:
    if isinstance(event, ValidatedEvent):
        return str(event.type)
    claimed = (event or {}).get("type")
    return str(claimed) if isinstance(claimed, str) and claimed else None


def _where(sender: DepartmentRef | None) -> tuple[str | None, str | None]:
    """Metric labels of the authenticated sender (never the event's own claim: unbounded)."""
    return (sender.jurisdiction, sender.department) if sender is not None else (None, None)


def _unknown_sender(delivery: ReceivedMessage, event: ValidatedEvent, operator: bool) -> Refusal:
    expected = DepartmentRef(event.jurisdiction, event.department).amqp_user
    if operator:  # a replay must say whose message it replays: never the event's own claim
        return Refusal("unknown-sender", "an operator replay must name the department user "
                         "that published the message", (FieldProblem(
                             REPLAY_AS_HEADER, f"{delivery.headers.get(REPLAY_AS_HEADER)!r}",
                             "the dead letter's authenticated department user_id"),))
    return Refusal("unknown-sender", "the message does not name a department user",
                     (FieldProblem("user_id", f"{delivery.user_id!r} is not a department user",
                                   f"{expected} (set the AMQP user_id property)"),))


class _Refused(Exception):
    def __init__(self, refusal: Refusal,
                 event: ValidatedEvent | dict[str, Any] | None = None) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal
        self.event = event


def _unreadable(exc: Exception) -> _Refused:
    """A message whose checks raised (no I/O happens there: nothing is "away") is refused on its
    own: one department's odd message must never fail — and, at the delivery limit, dead-letter
    — the batch it shares with other departments' events. The dead letter keeps it for a replay
    once the cause is fixed."""
    log.warning("a message could not be checked (%s); refused on its own", type(exc).__name__)
    return _Refused(Refusal("invalid-event", f"the message could not be checked "
                                              f"({type(exc).__name__})",
                            (FieldProblem("body", f"{type(exc).__name__}: {exc}"[:300],
                                          "a CloudEvents 1.0 JSON object"),)))


def _refuse_lone_surrogates(body: bytes) -> None:
    """A ``"\\ud800"`` escape anywhere in the JSON is refused before validation: its text could
    not be written into the feedback record, a header or the database (the HTTP path answers
    400 for the same body)."""
    if not surrogates.may_contain(body):
        return
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return  # not JSON at all: validation names that
    where = surrogates.find_lone_surrogate(value)
    if where is not None:
        # no ids in the record: they may be the very text that cannot be encoded
        raise _Refused(Refusal("invalid-event",
                                 f"the JSON contains a lone UTF-16 surrogate escape at {where}",
                                 (surrogates.problem_at(where),)))


def _validated(body: bytes, received: datetime, max_future_skew: float) -> ValidatedEvent:
    """The event as a department may send it (no ``pantaureceived``, no future ``time``), or
    ``_Refused`` with reason ``invalid-event``."""
    try:
        event = validate_event(body, inbound=True)
    except ContractViolation as exc:
        raise _Refused(_invalid(exc), _ids(exc)) from exc
    try:
        refuse_future_time(event, received, max_future_skew)
    except ContractViolation as exc:
        raise _Refused(_invalid(exc), event) from exc
    return event


def _invalid(exc: ContractViolation) -> Refusal:
    return Refusal("invalid-event", "the event does not match the contract",
                     tuple(exc.problems))


def _ids(exc: ContractViolation) -> dict[str, Any]:
    return {"id": exc.event_id, "source": exc.source, "type": exc.event_type}
