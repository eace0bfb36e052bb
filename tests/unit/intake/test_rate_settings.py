"""A department's own rate: the ``credentials rate`` command, its store and the cached lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pantau_intake.adapters.credential_store import CachedRates
from pantau_intake.credentials.cli import main
from pantau_intake.credentials.rates import parse_until
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.rate_limit import DepartmentRate
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import Clock

BANDUNG = DepartmentRef("kota-bandung", "dpmptsp")
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


class FakeRateStore:
    def __init__(self) -> None:
        self.table: dict[DepartmentRef, DepartmentRate] = {}
        self.reads = 0
        self.down = False

    def rates(self) -> dict[DepartmentRef, DepartmentRate]:
        self.reads += 1
        if self.down:
            raise StoreUnavailable("database away")
        return dict(self.table)


def test_the_lookup_reads_the_store_once_per_ttl() -> None:
    store, clock = FakeRateStore(), Clock(0.0)
    rates = CachedRates(store, ttl=10, clock=clock, wall=lambda: NOW)  # type: ignore[arg-type]
    assert rates(BANDUNG) is None
    store.table[BANDUNG] = DepartmentRate(2500, 5000)
    assert rates(BANDUNG) is None and store.reads == 1  # cached
    clock.now += 10
    assert rates(BANDUNG) == DepartmentRate(2500, 5000)
    assert store.reads == 2


def test_an_expired_raise_gives_the_defaults() -> None:
    store, wall = FakeRateStore(), [NOW]
    store.table[BANDUNG] = DepartmentRate(2500, 5000, until=NOW + timedelta(hours=1))
    rates = CachedRates(store, wall=lambda: wall[0])  # type: ignore[arg-type]
    assert rates(BANDUNG) is not None
    wall[0] = NOW + timedelta(hours=1)
    assert rates(BANDUNG) is None


def test_a_database_away_keeps_the_last_known_settings() -> None:
    store, clock = FakeRateStore(), Clock(0.0)
    store.table[BANDUNG] = DepartmentRate(2500, 5000)
    rates = CachedRates(store, ttl=1, clock=clock, wall=lambda: NOW)  # type: ignore[arg-type]
    assert rates(BANDUNG) == DepartmentRate(2500, 5000)
    store.down, clock.now = True, 5.0
    assert rates(BANDUNG) == DepartmentRate(2500, 5000)


def test_until_takes_a_relative_or_an_offset_moment() -> None:
    assert parse_until("+8h", NOW) == NOW + timedelta(hours=8)
    assert parse_until("+30m", NOW) == NOW + timedelta(minutes=30)
    assert parse_until("2026-12-03T06:00:00+07:00", NOW) == datetime(2026, 12, 2, 23, 0,
                                                                      tzinfo=UTC)
    assert parse_until(None, NOW) is None
    with pytest.raises(ValueError):
        parse_until("2026-12-03T06:00:00", NOW)  # no offset: ambiguous
    with pytest.raises(ValueError):
        parse_until("2026-12-01T06:00:00+07:00", NOW)  # in the past


def test_rate_set_show_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = IntakeSettings(state_dir=tmp_path)
    assert main(["rate", "set", "kota-bandung/dpmptsp", "--rate", "2500", "--burst", "5000",
                 "--until", "+8h"], settings=settings) == 0
    assert main(["rate", "show"], settings=settings) == 0
    out = capsys.readouterr().out
    assert "kota-bandung/dpmptsp: 2500 events/s, burst 5000, weight 1, until" in out
    assert "defaults: 50 events/s, burst 500" in out
    assert main(["rate", "set", "kota-bandung/dpmptsp", "--rate", "100"], settings=settings) == 0
    assert main(["rate", "show", "kota-bandung/dpmptsp"], settings=settings) == 0
    assert "100 events/s, burst 200, weight 1\n" in capsys.readouterr().out
    assert main(["rate", "clear", "kota-bandung/dpmptsp"], settings=settings) == 0
    assert main(["rate", "show", "kota-bandung/dpmptsp"], settings=settings) == 0
    assert "kota-bandung/dpmptsp: defaults" in capsys.readouterr().out
    assert main(["rate", "set", "kota-bandung/dpmptsp", "--rate", "10", "--burst", "0"],
                settings=settings) == 2
