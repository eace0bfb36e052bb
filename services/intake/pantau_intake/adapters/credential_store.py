"""Department keys in SQL (SQLite by default, PostgreSQL when PANTAU_INTAKE_DATABASE_URL is set).

Table ``intake_keys``: key id, department, the sealed secret (see ``secretbox``), created
and revoked times. The table is created on first use. The same database also holds the replay
and idempotency tables shared by all HTTP replicas (``seen_signatures``, ``accepted_events``).
A department may have at most ``MAX_ACTIVE_KEYS`` (2) active keys, which is what makes rotation
without downtime possible: issue the new key, switch senders over, revoke the old one.

Table ``intake_rate_limits``: a department's own rate limit (events/s, burst, fair-share weight,
optional ``until`` ending a temporary raise), set with ``credentials rate set``; a department
without a row uses the defaults (PANTAU_INTAKE_RATE_PER_SECOND / _BURST). ``CachedRates`` is the
HTTP limiter's lookup: cached ``ttl`` seconds (a change takes that long to apply), and a database
that does not answer keeps the last known setting (a rate limit never turns into a 503).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pantau_intake.adapters.secretbox import SecretBox
from pantau_intake.adapters.sql import create_tables, engine_for, unavailable_on_error
from pantau_intake.domain.authentication import ActiveKey
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.rate_limit import DepartmentRate, effective_rate

log = logging.getLogger(__name__)

MAX_ACTIVE_KEYS = 2
_metadata = sa.MetaData()
keys_table = sa.Table(
    "intake_keys", _metadata,
    sa.Column("key_id", sa.String(120), primary_key=True),
    sa.Column("jurisdiction", sa.String(64), nullable=False),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("sealed_secret", sa.Text, nullable=False),
    sa.Column("label", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_intake_keys_department", "jurisdiction", "department"),
)

rates_table = sa.Table(
    "intake_rate_limits", _metadata,
    sa.Column("jurisdiction", sa.String(64), primary_key=True),
    sa.Column("department", sa.String(64), primary_key=True),
    sa.Column("rate", sa.Float, nullable=False),
    sa.Column("burst", sa.Float, nullable=False),
    sa.Column("weight", sa.Float, nullable=False, default=1.0),
    sa.Column("until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class CredentialError(ValueError):
    """A credential operation that cannot be done (too many keys, unknown key, …)."""


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    department: DepartmentRef
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_key_id(department: DepartmentRef) -> str:
    return f"{department.jurisdiction}.{department.department}.{secrets.token_hex(4)}"


def new_secret() -> str:
    return "pk_" + secrets.token_urlsafe(32)


class CredentialStore:
    """CRUD on ``intake_keys``; secrets go in sealed and come out only through ``secret()``."""

    def __init__(self, url: str, box: SecretBox) -> None:
        self._engine = engine_for(url)
        self._box = box
        create_tables(self._engine, _metadata)

    def dispose(self) -> None:
        self._engine.dispose()

    def add(self, department: DepartmentRef, secret: str, *, key_id: str | None = None,
            label: str = "", replace: bool = False) -> KeyRecord:
        """Store a key. Refuses a third active key; ``replace`` re-seals an existing key id with
        ``secret`` (its revoked/active state is kept), which makes dev bootstrapping idempotent."""
        key_id = key_id or new_key_id(department)
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            existing = conn.execute(sa.select(keys_table).where(keys_table.c.key_id == key_id)
                                    ).first()
            if existing is not None:
                if not replace:
                    raise CredentialError(f"key {key_id!r} already exists")
                conn.execute(keys_table.update().where(keys_table.c.key_id == key_id).values(
                    sealed_secret=self._box.seal(key_id, secret),
                    jurisdiction=department.jurisdiction, department=department.department))
            else:
                active = self._count_active(conn, department)
                if active >= MAX_ACTIVE_KEYS:
                    raise CredentialError(
                        f"{department} already has {active} active keys; revoke one first "
                        "(or use 'rotate')")
                conn.execute(keys_table.insert().values(
                    key_id=key_id, jurisdiction=department.jurisdiction,
                    department=department.department, sealed_secret=self._box.seal(key_id, secret),
                    label=label, created_at=now, revoked_at=None))
        record = self.get(key_id)
        assert record is not None
        return record

    def revoke(self, key_id: str) -> KeyRecord:
        with self._engine.begin() as conn:
            result = conn.execute(keys_table.update().where(
                (keys_table.c.key_id == key_id) & keys_table.c.revoked_at.is_(None)
            ).values(revoked_at=datetime.now(UTC)))
            if result.rowcount == 0:
                raise CredentialError(f"no active key {key_id!r}")
        record = self.get(key_id)
        assert record is not None
        return record

    def get(self, key_id: str) -> KeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(keys_table).where(keys_table.c.key_id == key_id)).first()
        return _record(row) if row is not None else None

    def list(self, department: DepartmentRef | None = None) -> list[KeyRecord]:
        query = sa.select(keys_table).order_by(keys_table.c.jurisdiction,
                                               keys_table.c.department, keys_table.c.created_at)
        if department is not None:
            query = query.where((keys_table.c.jurisdiction == department.jurisdiction)
                                & (keys_table.c.department == department.department))
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def active_key(self, key_id: str) -> ActiveKey | None:
        """The key with its plaintext secret, if it exists and is not revoked. Raises
        ``StoreUnavailable`` if the database cannot be reached (the HTTP edge answers 503)."""
        with unavailable_on_error("looking up a key"), self._engine.connect() as conn:
            row = conn.execute(sa.select(keys_table).where(
                (keys_table.c.key_id == key_id) & keys_table.c.revoked_at.is_(None))).first()
        if row is None:
            return None
        return ActiveKey(key_id=row.key_id,
                         department=DepartmentRef(row.jurisdiction, row.department),
                         secret=self._box.open(row.key_id, row.sealed_secret))

    def set_rate(self, department: DepartmentRef, rate: DepartmentRate) -> None:
        """Store (replace) ``department``'s own rate limit."""
        if rate.burst < 1 or rate.weight <= 0:
            raise CredentialError("burst must be at least 1 and weight more than 0")
        where = ((rates_table.c.jurisdiction == department.jurisdiction)
                 & (rates_table.c.department == department.department))
        values = {"rate": float(rate.rate), "burst": float(rate.burst),
                  "weight": float(rate.weight), "until": rate.until,
                  "updated_at": datetime.now(UTC)}
        with self._engine.begin() as conn:
            if conn.execute(rates_table.update().where(where).values(**values)).rowcount == 0:
                conn.execute(rates_table.insert().values(
                    jurisdiction=department.jurisdiction, department=department.department,
                    **values))

    def clear_rate(self, department: DepartmentRef) -> bool:
        """Back to the defaults; False if the department had no setting."""
        with self._engine.begin() as conn:
            return bool(conn.execute(rates_table.delete().where(
                (rates_table.c.jurisdiction == department.jurisdiction)
                & (rates_table.c.department == department.department))).rowcount)

    def rates(self) -> dict[DepartmentRef, DepartmentRate]:
        """Every department's own setting (expired ones included: ``until`` says so)."""
        with unavailable_on_error("reading rate limits"), self._engine.connect() as conn:
            rows = conn.execute(sa.select(rates_table)).all()
        return {DepartmentRef(r.jurisdiction, r.department): DepartmentRate(
            r.rate, r.burst, r.weight, _aware(r.until)) for r in rows}

    @staticmethod
    def _count_active(conn: sa.Connection, department: DepartmentRef) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(keys_table).where(
            (keys_table.c.jurisdiction == department.jurisdiction)
            & (keys_table.c.department == department.department)
            & keys_table.c.revoked_at.is_(None))).scalar_one())


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _record(row: sa.Row[tuple[object, ...]]) -> KeyRecord:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    revoked = row.revoked_at
    if revoked is not None and revoked.tzinfo is None:
        revoked = revoked.replace(tzinfo=UTC)
    return KeyRecord(key_id=row.key_id, department=DepartmentRef(row.jurisdiction, row.department),
                     label=row.label or "", created_at=created, revoked_at=revoked)


class CachingKeyResolver:
    """``KeyResolver`` over the store with a short cache (``ttl`` seconds).

    The cache keeps the database off the hot path; its cost is that a revocation takes up to
    ``ttl`` seconds to be effective (default 30 s, PANTAU_INTAKE_KEY_CACHE_SECONDS). Unknown keys
    are cached too, briefly, so a flood of bad key ids does not hit the database each time.
    """

    def __init__(self, store: CredentialStore, ttl: float = 30.0) -> None:
        self._store = store
        self._ttl = ttl
        self._cache: dict[str, tuple[float, ActiveKey | None]] = {}
        self._lock = threading.Lock()

    def resolve(self, key_id: str) -> ActiveKey | None:
        if len(key_id) > 120:
            return None
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        key = self._store.active_key(key_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key_id] = (now + (self._ttl if key else min(self._ttl, 5.0)), key)
        return key


class CachedRates:
    """The rate limiter's ``limits`` lookup: each department's setting in force, from the store
    read at most every ``ttl`` seconds (one query for all departments). A department without a
    setting in force gets None (the limiter's defaults)."""

    def __init__(self, store: CredentialStore, ttl: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store, self._ttl, self._clock, self._wall = store, ttl, clock, wall
        self._settings: dict[DepartmentRef, DepartmentRate] = {}
        self._expires = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, department: Hashable) -> DepartmentRate | None:
        if self._clock() >= self._expires:
            self._reload()
        if not isinstance(department, DepartmentRef):
            return None
        setting = self._settings.get(department)
        if setting is None:
            return None
        in_force = effective_rate(setting, _NOT_SET, self._wall())
        return None if in_force is _NOT_SET else in_force

    def _reload(self) -> None:
        with self._lock:
            if self._clock() < self._expires:
                return  # another thread just did
            try:
                self._settings = self._store.rates()
            except Exception as exc:  # noqa: BLE001 - keep the last known settings
                log.warning("rate limits not reloaded (keeping the last known): %s", exc)
            self._expires = self._clock() + self._ttl


_NOT_SET = DepartmentRate(0.0, 1.0)
