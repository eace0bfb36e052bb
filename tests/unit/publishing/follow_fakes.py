"""Hand-written fakes of the follow ports: an in-memory ``FollowStore`` and ``MailTransport``."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from pantau_publishing.service.ports import CaseState, Follower, QueuedMail


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Row:
    follower: Follower
    confirm_hash: str | None
    purge_after: float | None


class FakeFollowStore:
    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.tokens: dict[str, int] = {}
        self.outbox: dict[tuple[int, str], QueuedMail] = {}
        self.not_before: dict[int, float] = {}
        self.sends: list[tuple[str, float]] = []
        self.hits: list[tuple[str, float]] = []
        self._ids = 0

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def count_hits(self, keys: Sequence[str], now: float, window: float) -> dict[str, int]:
        self.hits += [(key, now) for key in keys]
        return {key: sum(1 for k, at in self.hits if k == key and at > now - window)
                for key in keys}

    def pending_count(self, receipt_number: str) -> int:
        return sum(1 for r in self.rows.values()
                   if r.follower.receipt_number == receipt_number and not r.follower.confirmed)

    def _find(self, receipt: str, address: str) -> Row | None:
        return next((r for r in self.rows.values() if r.follower.receipt_number == receipt
                     and r.follower.address == address), None)

    def _queue(self, follower_id: int, kind: str, address: str, message: bytes,
               now: float) -> None:
        old = self.outbox.get((follower_id, kind))
        mail = QueuedMail(self._id(), kind, address, message)
        self.outbox[(follower_id, kind)] = mail
        self.not_before[mail.id] = self.not_before.get(old.id, now) if old else now

    def request_confirmation(self, receipt_number: str, address: str, confirm_hash: str,
                             now: float, purge_after: float, message: bytes) -> bool:
        row = self._find(receipt_number, address)
        if row is not None and row.follower.confirmed:
            return False
        if row is None:
            row = Row(Follower(self._id(), receipt_number, address, False), None, None)
            self.rows[row.follower.id] = row
        row.confirm_hash, row.purge_after = confirm_hash, purge_after
        self._queue(row.follower.id, "confirm", address, message, now)
        return True

    def pending_by_token(self, confirm_hash: str, now: float) -> Follower | None:
        return next((r.follower for r in self.rows.values() if r.confirm_hash == confirm_hash
                     and not r.follower.confirmed and (r.purge_after or 0) > now), None)

    def confirm(self, follower_id: int, now: float, state: CaseState) -> bool:
        row = self.rows.get(follower_id)
        if row is None or row.follower.confirmed:
            return False
        row.follower = replace(row.follower, confirmed=True, notified_revision=state.revision,
                               notified_status=state.status, notified_overdue=state.overdue)
        row.confirm_hash = row.purge_after = None
        return True

    def _delete(self, follower_id: int) -> None:
        self.rows.pop(follower_id, None)
        self.tokens = {t: i for t, i in self.tokens.items() if i != follower_id}
        self.outbox = {k: m for k, m in self.outbox.items() if k[0] != follower_id}

    def unsubscribe(self, token_hash: str) -> bool:
        follower_id = self.tokens.get(token_hash)
        if follower_id is None:
            return False
        self._delete(follower_id)
        return True

    def confirmed_followers(self, receipt_number: str) -> list[Follower]:
        return [r.follower for r in self.rows.values()
                if r.follower.receipt_number == receipt_number and r.follower.confirmed]

    def followed(self, receipt_numbers: Collection[str]) -> set[str]:
        return {r.follower.receipt_number for r in self.rows.values()
                if r.follower.confirmed and r.follower.receipt_number in receipt_numbers}

    def record_notification(self, follower: Follower, state: CaseState,
                            mail: tuple[str, bytes] | None, now: float) -> bool:
        row = self.rows.get(follower.id)
        if row is None or row.follower.notified_revision != follower.notified_revision:
            return False
        row.follower = replace(row.follower, notified_revision=state.revision,
                               notified_status=state.status, notified_overdue=state.overdue)
        if mail is not None:
            self.tokens[mail[0]] = follower.id
            self._queue(follower.id, "update", follower.address, mail[1], now)
        return True

    def schedule_purge(self, receipt_number: str, purge_after: float) -> None:
        for row in self.rows.values():
            if row.follower.receipt_number == receipt_number and row.follower.confirmed:
                row.purge_after = purge_after

    def due_mail(self, now: float, limit: int) -> list[QueuedMail]:
        due = [m for m in self.outbox.values() if self.not_before[m.id] <= now]
        return sorted(due, key=lambda m: (self.not_before[m.id], m.id))[:limit]

    def sent_count(self, address: str, since: float) -> tuple[int, float | None]:
        times = [at for h, at in self.sends if h == _h(address) and at > since]
        return len(times), min(times) if times else None

    def _key(self, mail: QueuedMail) -> tuple[int, str] | None:
        return next((k for k, m in self.outbox.items() if m.id == mail.id), None)

    def mark_sent(self, mail: QueuedMail, now: float) -> None:
        key = self._key(mail)
        if key is not None:
            del self.outbox[key]
        if mail.kind == "update":
            self.sends.append((_h(mail.address), now))

    def retry_later(self, mail: QueuedMail, not_before: float, count_attempt: bool) -> None:
        key = self._key(mail)
        if key is None:
            return
        self.not_before[mail.id] = not_before
        if count_attempt:
            self.outbox[key] = replace(mail, attempts=mail.attempts + 1)

    def drop(self, mail: QueuedMail) -> None:
        key = self._key(mail)
        if key is not None:
            del self.outbox[key]

    def purge(self, now: float) -> int:
        gone = [i for i, r in self.rows.items()
                if r.purge_after is not None and r.purge_after < now]
        for follower_id in gone:
            self._delete(follower_id)
        return len(gone)


@dataclass
class FakeTransport:
    """Accepts mail, or fails as told: ``fail_with`` an exception for the next sends."""

    sent: list[tuple[str, bytes]] = field(default_factory=list)
    fail_with: list[Exception] = field(default_factory=list)

    def send(self, address: str, message: bytes) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append((address, message))

