"""Fixtures of intake's integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import database_urls


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Intake's database: a SQLite file and a fresh PostgreSQL schema (every test runs on both)."""
    yield from database_urls(request, tmp_path, "intake", "i")
