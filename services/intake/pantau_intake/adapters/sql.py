"""Intake's use of the shared SQL plumbing (``pantau_platform.sql``): its schema lock id, and
driver failures raised as intake's own ``StoreUnavailable`` (the HTTP edge answers 503)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

import sqlalchemy as sa

from pantau_intake.domain.store import StoreUnavailable
from pantau_platform import sql as _sql
from pantau_platform.sql import ExpiryPurger, engine_for, ledger_engine_for, ping, upsert, utc

__all__ = ["ExpiryPurger", "create_tables", "engine_for", "ledger_engine_for", "ping",
           "transact", "unavailable_on_error", "upsert", "utc"]

SCHEMA_LOCK_ID = 0x50414E5441550001  # "PANTAU" + 1: intake's schema creation
T = TypeVar("T")


def create_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    _sql.create_tables(engine, metadata, SCHEMA_LOCK_ID)


def unavailable_on_error(what: str) -> AbstractContextManager[None]:
    return _sql.unavailable_on_error(what, StoreUnavailable)


def transact(engine: sa.Engine, what: str, work: Callable[[sa.Connection], T]) -> T:
    return _sql.transact(engine, what, work, StoreUnavailable)
