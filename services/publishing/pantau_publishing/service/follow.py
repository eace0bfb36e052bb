"""Following a case by e-mail: the use cases of the portal (request, confirm, unsubscribe) and of
the mailer (notify on public status changes, send the outbox, purge). Plain Python over the
``FollowStore`` and ``MailTransport`` ports (``service.ports``).

Rules (docs/privacy.md, "Followers"):

* **Double opt-in.** A request stores a *pending* follower and queues a confirmation mail;
  only a confirmed follower is ever mailed again. Pending followers are purged after 48 h.
* **Tokens** are random (256 bits); only their SHA-256 is stored. Each update mail carries its
  own unsubscribe token (the store keeps its hash), so every mail's one-click link works.
* **No oracle.** A request for an address that already follows the case answers exactly as a
  new one (and mails nothing); limits count every request alike.
* **Rate limits**, per client IP, per address and per receipt (hashed keys, one-hour window),
  and a bound on pending confirmations per receipt; updates: at most ``updates_per_hour`` per
  address, the excess coalesced into the latest status (an unsent update is replaced).
* **One mail per public status change**, and one when the case becomes overdue. A follower
  remembers the revision it was told about; a redelivered or older event (revision not above
  it) mails nothing, and the advance is a compare-and-set so two mailers never both send.
* **Purge**: a closed (or withdrawn) case's followers are deleted 30 days after it closed.
* Addresses never reach a log line: nothing here logs one (and the log filter masks e-mails).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from pantau_contracts.envelope import ContractViolation
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.payloads.tracking import CaseUpdatedV1, CaseUpdatedV2
from pantau_contracts.registry import validate_event
from pantau_publishing.domain.record import clean_case
from pantau_publishing.service.follow_mail import (
    MailContext,
    confirmation_mail,
    update_mail,
    wire,
)
from pantau_publishing.service.ports import (
    CaseState,
    Follower,
    FollowStore,
    MailRejected,
    MailTransport,
    MailUnavailable,
    QueuedMail,
)

log = logging.getLogger(__name__)
HOUR = 3600.0
DAY = 24 * HOUR
PENDING_LIFETIME = 48 * HOUR
AFTER_CLOSE = 30 * DAY
MAX_ADDRESS = 254  # RFC 5321 path limit
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class InvalidAddress(ValueError):
    """Not an e-mail address we can write to (the form shows the message)."""


class CaseNotFollowable(Exception):
    """The case is closed or withdrawn: there is nothing left to hear about."""


class TooManyRequests(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class FollowLimits:
    per_ip: int = 10  # requests per client IP per hour
    per_address: int = 3  # requests per address per hour (confirmation mails to one inbox)
    per_receipt: int = 20  # requests per receipt per hour
    pending_per_receipt: int = 20  # unconfirmed followers a receipt may have at once
    updates_per_hour: int = 4  # update mails per address per hour; the excess is coalesced
    max_attempts: int = 12  # SMTP attempts before a mail is given up (back-off: ~1 day)


def normalise_address(raw: str) -> str:
    """The address, lower-cased and checked (a plain ``local@domain``, no display name, quotes
    or comments — nothing that could inject a header). Raises ``InvalidAddress``."""
    address = raw.strip().lower()
    if not address or len(address) > MAX_ADDRESS or address.count("@") != 1:
        raise InvalidAddress("not an e-mail address")
    local, domain = address.split("@")
    labels = domain.split(".")
    if (not local or len(local) > 64 or not _LOCAL.match(local) or len(labels) < 2
            or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit()):
        raise InvalidAddress("not an e-mail address")
    return address


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and the SHA-256 the store keeps."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def followable(case: PublicCaseV2) -> bool:
    return not (case.status.is_final or case.withdrawn)


def state_of(case: PublicCaseV2) -> CaseState:
    return CaseState(case.revision, case.status.value, case.overdue)


def _when(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


class FollowRequests:
    """The portal's side: request, confirm, unsubscribe."""

    def __init__(self, store: FollowStore, context: MailContext,
                 limits: FollowLimits | None = None) -> None:
        self.store = store
        self.context = context
        self.limits = limits or FollowLimits()

    def request(self, case: PublicCaseV2, raw_address: str, client: str, now: float) -> None:
        """Queue a confirmation (or, if the address already follows, nothing — the caller
        answers the same). Raises ``InvalidAddress``, ``CaseNotFollowable``,
        ``TooManyRequests``."""
        address = normalise_address(raw_address)
        if not followable(case):
            raise CaseNotFollowable(case.receipt_number)
        limits = self.limits
        keys = {f"ip:{digest(client)}": limits.per_ip,
                f"address:{digest(address)}": limits.per_address,
                f"receipt:{case.receipt_number}": limits.per_receipt}
        hits = self.store.count_hits(list(keys), now, HOUR)
        if any(hits.get(key, 0) > limit for key, limit in keys.items()):
            raise TooManyRequests(int(HOUR))
        if self.store.pending_count(case.receipt_number) >= limits.pending_per_receipt:
            raise TooManyRequests(int(HOUR))
        token, token_hash = new_token()
        message = confirmation_mail(self.context, case, address, token, _when(now))
        self.store.request_confirmation(case.receipt_number, address, token_hash, now,
                                        now + PENDING_LIFETIME, wire(message))

    def pending(self, token: str, now: float) -> Follower | None:
        """The pending follower a confirmation token names (None: unknown, used or expired)."""
        return self.store.pending_by_token(digest(token), now) if token else None

    def confirm(self, token: str, case: PublicCaseV2, now: float) -> bool:
        """Confirm; from now on the follower hears of changes after what the page shows."""
        follower = self.pending(token, now)
        if follower is None or follower.receipt_number != case.receipt_number:
            return False
        return self.store.confirm(follower.id, now, state_of(case))

    def unsubscribe(self, token: str) -> bool:
        return bool(token) and self.store.unsubscribe(digest(token))


def change_of(follower: Follower, case: PublicCaseV2) -> str | None:
    """What to tell ``follower`` about ``case``: ``"status"``, ``"overdue"`` or None. None for a
    revision not above the one it was told about (redelivered, out of order)."""
    if case.revision <= follower.notified_revision:
        return None
    if case.status.value != follower.notified_status:
        return "status"
    if case.overdue and not follower.notified_overdue:
        return "overdue"
    return None


class NotifyFollowers:
    """The mailer's side of a batch of ``case.updated`` records."""

    def __init__(self, store: FollowStore, context: MailContext) -> None:
        self.store = store
        self.context = context

    def handle_messages(self, bodies: Sequence[bytes],
                        now: float) -> tuple[int, dict[int, dict[str, object]]]:
        """A batch of ``pantau.cases`` messages: the number of mails queued, and ``{index:
        reason}`` of the poison ones. Almost no case has a follower, so the batch's receipts
        are read from each event's ``subject`` without validating (``peek_receipt``), looked up
        in ONE query, and only the messages of followed cases (or whose subject cannot be read)
        are validated in full. A broken message about a case nobody follows is thus acked here
        unvalidated: the indexer, reading the same events, dead-letters it."""
        peeked = [peek_receipt(body) for body in bodies]
        followed = self.store.followed({r for r in peeked if r is not None})
        wanted = [i for i, receipt in enumerate(peeked) if receipt is None or receipt in followed]
        cases, poison = decode_cases([bodies[i] for i in wanted])
        return (self.handle(cases, now, followed if None not in peeked else None),
                {wanted[i]: reason for i, reason in poison.items()})

    def handle(self, cases: Sequence[PublicCaseV2], now: float,
               followed: Collection[str] | None = None) -> int:
        """Queue the update mails the batch calls for; the number queued. ``followed``: the
        receipts with confirmed followers, if the caller already looked them up."""
        latest: dict[str, PublicCaseV2] = {}
        for case in cases:
            seen = latest.get(case.receipt_number)
            if seen is None or case.revision > seen.revision:
                latest[case.receipt_number] = case
        if followed is None:
            followed = self.store.followed(set(latest)) if latest else set()
        return sum(self._case(latest[receipt], now) for receipt in latest if receipt in followed)

    def _case(self, case: PublicCaseV2, now: float) -> int:
        queued = 0
        for follower in self.store.confirmed_followers(case.receipt_number):
            change = change_of(follower, case)
            if case.revision <= follower.notified_revision:
                continue
            mail = None
            if change is not None:
                token, token_hash = new_token()
                message = update_mail(self.context, case, follower.address, token,
                                      change == "overdue", _when(now))
                mail = (token_hash, wire(message))
            if self.store.record_notification(follower, state_of(case), mail, now) and mail:
                queued += 1
        if not followable(case):
            closed = case.closed_at.timestamp() if case.closed_at else now
            self.store.schedule_purge(case.receipt_number, closed + AFTER_CLOSE)
        return queued


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 30 s doubling, capped at 4 h (12 attempts span
    about a day)."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 4 * HOUR))


@dataclass
class SendReport:
    """How many due mails one ``SendOutbox.run`` sent, deferred, failed and dropped."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    dropped: int = 0


class SendOutbox:
    """Send what is due. A mail is marked sent only after the SMTP server accepted it."""

    def __init__(self, store: FollowStore, transport: MailTransport,
                 limits: FollowLimits | None = None) -> None:
        self.store = store
        self.transport = transport
        self.limits = limits or FollowLimits()

    def run(self, now: float, batch: int = 50) -> SendReport:
        outcome = SendReport()
        for mail in self.store.due_mail(now, batch):
            if mail.kind == "update" and self._over_limit(mail, now, outcome):
                continue
            try:
                self.transport.send(mail.address, mail.message)
            except MailRejected as exc:
                log.warning("mail %s refused for good by the SMTP server (%s); dropped",
                            mail.id, exc)
                self.store.drop(mail)
                outcome.dropped += 1
                continue
            except MailUnavailable as exc:
                self._retry(mail, now, str(exc), outcome)
                continue
            self.store.mark_sent(mail, now)
            outcome.sent += 1
        return outcome

    def _over_limit(self, mail: QueuedMail, now: float, outcome: SendReport) -> bool:
        count, oldest = self.store.sent_count(mail.address, now - HOUR)
        if count < self.limits.updates_per_hour:
            return False
        # wait until the oldest send leaves the window; later changes replace this mail
        self.store.retry_later(mail, (oldest or now) + HOUR, count_attempt=False)
        outcome.deferred += 1
        return True

    def _retry(self, mail: QueuedMail, now: float, detail: str, outcome: SendReport) -> None:
        attempts = mail.attempts + 1
        if attempts >= self.limits.max_attempts:
            log.warning("mail %s given up after %d attempts (%s)", mail.id, attempts, detail)
            self.store.drop(mail)
            outcome.dropped += 1
            return
        self.store.retry_later(mail, now + backoff(attempts), count_attempt=True)
        outcome.failed += 1


def peek_receipt(body: bytes) -> str | None:
    """The ``subject`` (a case event's receipt number) of a CloudEvent's JSON, read without
    validating; None when it cannot be read (the message is then validated in full)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    subject = document.get("subject") if isinstance(document, dict) else None
    return subject if isinstance(subject, str) else None


def decode_cases(
        bodies: Sequence[bytes]) -> tuple[list[PublicCaseV2], dict[int, dict[str, object]]]:
    """The public records of a batch of ``pantau.cases`` messages, and ``{index: reason}`` for
    the ones that break the contract (dead-lettered by the caller). ``case.overdue`` carries no
    record: tracking's ``case.updated`` with ``overdue: true`` is what followers hear about."""
    cases: list[PublicCaseV2] = []
    poison: dict[int, dict[str, object]] = {}
    for index, body in enumerate(bodies):
        try:
            event = validate_event(body, allowed_types=frozenset({"case.updated",
                                                                  "case.overdue"}))
            if isinstance(event.payload, CaseUpdatedV1 | CaseUpdatedV2):
                cases.append(clean_case(event.payload.case))
        except (ContractViolation, ValidationError) as exc:
            poison[index] = {"stage": "publishing-mailer", "reason": "contract-violation",
                             "detail": str(exc)[:2000]}
    return cases, poison
