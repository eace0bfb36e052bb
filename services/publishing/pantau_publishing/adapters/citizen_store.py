"""The followers' tables of the citizen store (``PANTAU_CITIZEN_DATABASE_URL``): the SQL
``FollowStore`` (SQLite in development, PostgreSQL in production and the tests).

Tables (all private: the portal and the mailer read and write them, nothing else does):

* ``follow_followers``: receipt, address, pending/confirmed, SHA-256 of the confirmation token,
  created/confirmed times, the last notified revision/status/overdue flag, ``purge_after``;
* ``follow_tokens``: SHA-256 of every unsubscribe token handed out, with its follower;
* ``follow_outbox``: composed mails waiting for the SMTP server (one unsent mail per follower
  and kind: a newer update replaces an unsent one); deleted once the server accepted it;
* ``follow_sends``: when an update went to (the SHA-256 of) an address, for the hourly limit;
* ``follow_hits``: request counters by hashed key (IP, address) or receipt, for the portal's
  rate limits. Both last one hour.

Times are POSIX seconds (floats). Every method is one transaction (``pantau_platform.sql``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

import sqlalchemy as sa

from pantau_platform.sql import create_tables, engine_for, transact, upsert
from pantau_publishing.service.ports import CaseState, Follower, QueuedMail

SCHEMA_LOCK_ID = 0x50414E5441550101  # "PANTAU" + publishing's citizen store, followers
HOUR = 3600.0

metadata = sa.MetaData()
followers = sa.Table(
    "follow_followers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("receipt_number", sa.String(64), nullable=False, index=True),
    sa.Column("address", sa.String(254), nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False, default=False),
    sa.Column("confirm_hash", sa.String(64), index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("confirmed_at", sa.Float),
    sa.Column("notified_revision", sa.Integer, nullable=False, default=0),
    sa.Column("notified_status", sa.String(32), nullable=False, default=""),
    sa.Column("notified_overdue", sa.Boolean, nullable=False, default=False),
    sa.Column("purge_after", sa.Float, index=True),
    sa.UniqueConstraint("receipt_number", "address", name="uq_follow_receipt_address"),
)
tokens = sa.Table(
    "follow_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("follower_id", sa.Integer, nullable=False, index=True),
)
outbox = sa.Table(
    "follow_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("follower_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("address", sa.String(254), nullable=False),
    sa.Column("message", sa.LargeBinary, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("not_before", sa.Float, nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("follower_id", "kind", name="uq_follow_outbox_follower_kind"),
)
sends = sa.Table(
    "follow_sends", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("address_hash", sa.String(64), nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.Index("ix_follow_sends_address_at", "address_hash", "sent_at"),
)
hits = sa.Table(
    "follow_hits", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(80), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_follow_hits_key_at", "key", "at"),
)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _follower(row: sa.Row) -> Follower:
    return Follower(id=row.id, receipt_number=row.receipt_number, address=row.address,
                    confirmed=bool(row.confirmed), notified_revision=row.notified_revision,
                    notified_status=row.notified_status,
                    notified_overdue=bool(row.notified_overdue))


class SqlFollowStore:
    """``FollowStore`` on SQLAlchemy Core; creates its tables at start."""

    def __init__(self, url_or_engine: str | sa.Engine) -> None:
        self.engine = (engine_for(url_or_engine) if isinstance(url_or_engine, str)
                       else url_or_engine)
        create_tables(self.engine, metadata, SCHEMA_LOCK_ID)

    def count_hits(self, keys: Sequence[str], now: float, window: float) -> dict[str, int]:
        def work(conn: sa.Connection) -> dict[str, int]:
            conn.execute(sa.insert(hits), [{"key": key, "at": now} for key in keys])
            rows = conn.execute(sa.select(hits.c.key, sa.func.count()).where(
                hits.c.key.in_(keys), hits.c.at > now - window).group_by(hits.c.key))
            return {row[0]: int(row[1]) for row in rows}
        return transact(self.engine, "count hits", work)

    def pending_count(self, receipt_number: str) -> int:
        def work(conn: sa.Connection) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(followers).where(
                followers.c.receipt_number == receipt_number,
                followers.c.confirmed.is_(False))).scalar_one())
        return transact(self.engine, "pending count", work)

    def request_confirmation(self, receipt_number: str, address: str, confirm_hash: str,
                             now: float, purge_after: float, message: bytes) -> bool:
        def work(conn: sa.Connection) -> bool:
            row = conn.execute(sa.select(followers.c.id, followers.c.confirmed).where(
                followers.c.receipt_number == receipt_number,
                followers.c.address == address)).first()
            if row is not None and row.confirmed:
                return False
            if row is None:
                follower_id = conn.execute(sa.insert(followers).values(
                    receipt_number=receipt_number, address=address, confirmed=False,
                    confirm_hash=confirm_hash, created_at=now, purge_after=purge_after,
                    notified_revision=0, notified_status="", notified_overdue=False,
                )).inserted_primary_key[0]
            else:  # a re-request: a new token (the old link stops working), a new 48 h
                follower_id = row.id
                conn.execute(sa.update(followers).where(followers.c.id == follower_id).values(
                    confirm_hash=confirm_hash, purge_after=purge_after))
            self._queue(conn, follower_id, "confirm", address, message, now)
            return True
        return transact(self.engine, "request confirmation", work)

    @staticmethod
    def _queue(conn: sa.Connection, follower_id: int, kind: str, address: str, message: bytes,
               now: float) -> None:
        """One unsent mail per follower and kind: a newer one replaces the older (coalescing;
        a deferred update keeps its ``not_before``)."""
        statement = upsert(conn.engine, outbox).values(
            follower_id=follower_id, kind=kind, address=address, message=message, attempts=0,
            not_before=now, created_at=now)
        conn.execute(statement.on_conflict_do_update(
            index_elements=[outbox.c.follower_id, outbox.c.kind],
            set_={"message": statement.excluded.message, "attempts": 0}))

    def pending_by_token(self, confirm_hash: str, now: float) -> Follower | None:
        def work(conn: sa.Connection) -> Follower | None:
            row = conn.execute(sa.select(followers).where(
                followers.c.confirm_hash == confirm_hash, followers.c.confirmed.is_(False),
                followers.c.purge_after > now)).first()
            return _follower(row) if row is not None else None
        return transact(self.engine, "pending by token", work)

    def confirm(self, follower_id: int, now: float, state: CaseState) -> bool:
        def work(conn: sa.Connection) -> bool:
            result = conn.execute(sa.update(followers).where(
                followers.c.id == follower_id, followers.c.confirmed.is_(False)).values(
                confirmed=True, confirmed_at=now, confirm_hash=None, purge_after=None,
                notified_revision=state.revision, notified_status=state.status,
                notified_overdue=state.overdue))
            return bool(result.rowcount)
        return transact(self.engine, "confirm", work)

    def unsubscribe(self, token_hash: str) -> bool:
        def work(conn: sa.Connection) -> bool:
            follower_id = conn.execute(sa.select(tokens.c.follower_id).where(
                tokens.c.token_hash == token_hash)).scalar_one_or_none()
            if follower_id is None:
                return False
            self._delete(conn, [follower_id])
            return True
        return transact(self.engine, "unsubscribe", work)

    @staticmethod
    def _delete(conn: sa.Connection, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        conn.execute(sa.delete(tokens).where(tokens.c.follower_id.in_(ids)))
        conn.execute(sa.delete(outbox).where(outbox.c.follower_id.in_(ids)))
        return int(conn.execute(sa.delete(followers).where(followers.c.id.in_(ids))).rowcount)

    def confirmed_followers(self, receipt_number: str) -> list[Follower]:
        def work(conn: sa.Connection) -> list[Follower]:
            rows = conn.execute(sa.select(followers).where(
                followers.c.receipt_number == receipt_number,
                followers.c.confirmed.is_(True)).order_by(followers.c.id))
            return [_follower(row) for row in rows]
        return transact(self.engine, "confirmed followers", work)

    def followed(self, receipt_numbers: Collection[str]) -> set[str]:
        wanted = sorted(receipt_numbers)
        if not wanted:
            return set()

        def work(conn: sa.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(wanted), 500):
                found.update(conn.execute(sa.select(followers.c.receipt_number).distinct().where(
                    followers.c.receipt_number.in_(wanted[start:start + 500]),
                    followers.c.confirmed.is_(True))).scalars())
            return found
        return transact(self.engine, "followed receipts", work)

    def record_notification(self, follower: Follower, state: CaseState,
                            mail: tuple[str, bytes] | None, now: float) -> bool:
        def work(conn: sa.Connection) -> bool:
            moved = conn.execute(sa.update(followers).where(
                followers.c.id == follower.id,
                followers.c.notified_revision == follower.notified_revision).values(
                notified_revision=state.revision, notified_status=state.status,
                notified_overdue=state.overdue)).rowcount
            if not moved:
                return False
            if mail is not None:
                token_hash, message = mail
                conn.execute(sa.insert(tokens).values(token_hash=token_hash,
                                                      follower_id=follower.id))
                self._queue(conn, follower.id, "update", follower.address, message, now)
            return True
        return transact(self.engine, "record notification", work)

    def schedule_purge(self, receipt_number: str, purge_after: float) -> None:
        def work(conn: sa.Connection) -> None:
            conn.execute(sa.update(followers).where(
                followers.c.receipt_number == receipt_number,
                followers.c.confirmed.is_(True)).values(purge_after=purge_after))
        transact(self.engine, "schedule purge", work)

    def due_mail(self, now: float, limit: int) -> list[QueuedMail]:
        def work(conn: sa.Connection) -> list[QueuedMail]:
            rows = conn.execute(sa.select(outbox).where(outbox.c.not_before <= now).order_by(
                outbox.c.not_before, outbox.c.id).limit(limit))
            return [QueuedMail(id=row.id, kind=row.kind, address=row.address,
                               message=bytes(row.message), attempts=row.attempts)
                    for row in rows]
        return transact(self.engine, "due mail", work)

    def sent_count(self, address: str, since: float) -> tuple[int, float | None]:
        def work(conn: sa.Connection) -> tuple[int, float | None]:
            count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(
                sends.c.sent_at)).where(sends.c.address_hash == _hash(address),
                                        sends.c.sent_at > since)).one()
            return int(count), oldest
        return transact(self.engine, "sent count", work)

    def mark_sent(self, mail: QueuedMail, now: float) -> None:
        def work(conn: sa.Connection) -> None:
            # only the message that was sent: a newer one that replaced it meanwhile stays
            conn.execute(sa.delete(outbox).where(outbox.c.id == mail.id,
                                                 outbox.c.message == mail.message))
            if mail.kind == "update":
                conn.execute(sa.insert(sends).values(address_hash=_hash(mail.address),
                                                     sent_at=now))
        transact(self.engine, "mark sent", work)

    def retry_later(self, mail: QueuedMail, not_before: float, count_attempt: bool) -> None:
        def work(conn: sa.Connection) -> None:
            values: dict[str, object] = {"not_before": not_before}
            if count_attempt:
                values["attempts"] = mail.attempts + 1
            conn.execute(sa.update(outbox).where(outbox.c.id == mail.id).values(**values))
        transact(self.engine, "retry later", work)

    def drop(self, mail: QueuedMail) -> None:
        transact(self.engine, "drop mail", lambda conn: conn.execute(
            sa.delete(outbox).where(outbox.c.id == mail.id)))

    def purge(self, now: float) -> int:
        def work(conn: sa.Connection) -> int:
            ids = list(conn.execute(sa.select(followers.c.id).where(
                followers.c.purge_after.is_not(None),
                followers.c.purge_after < now)).scalars())
            deleted = self._delete(conn, ids)
            conn.execute(sa.delete(sends).where(sends.c.sent_at < now - HOUR))
            conn.execute(sa.delete(hits).where(hits.c.at < now - HOUR))
            return deleted
        return transact(self.engine, "purge", work)

    def ping(self) -> bool:
        from pantau_platform.sql import ping
        return ping(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
