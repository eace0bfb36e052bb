"""Working-day calendar: known dates and properties over a large date range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_tracking.domain.calendar import (
    add_working_days,
    clock_start,
    holiday_name,
    is_working_day,
    local_date,
    next_working_day,
    working_days_between,
)

dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
counts = st.integers(min_value=0, max_value=60)


def _slow_between(a: date, b: date) -> int:
    return sum(1 for i in range(1, (b - a).days + 1) if is_working_day(a + timedelta(days=i)))


def test_weekends_holidays_and_cuti_bersama() -> None:
    assert not is_working_day(date(2026, 3, 7))  # Saturday
    assert not is_working_day(date(2026, 8, 17))  # Hari Kemerdekaan
    assert not is_working_day(date(2025, 4, 2))  # cuti bersama Idul Fitri
    assert holiday_name(date(2025, 4, 2)) is not None
    assert is_working_day(date(2026, 3, 2))  # an ordinary Monday
    assert holiday_name(date(2026, 3, 2)) is None


def test_lebaran_2025_due_date() -> None:
    # Thursday 27 March 2025; 28 Mar - 7 Apr are Nyepi, Idul Fitri and cuti bersama.
    assert add_working_days(date(2025, 3, 27), 3) == date(2025, 4, 10)
    assert working_days_between(date(2025, 3, 27), date(2025, 4, 9)) == 2


def test_day_zero_convention() -> None:
    monday = date(2026, 3, 2)
    assert add_working_days(monday, 0) == monday
    assert add_working_days(monday, 1) == date(2026, 3, 3)
    saturday = date(2026, 3, 7)
    assert clock_start(saturday) == date(2026, 3, 9)
    assert add_working_days(saturday, 1) == date(2026, 3, 10)
    assert working_days_between(monday, monday) == 0


def test_local_date_uses_the_jurisdiction_zone() -> None:
    instant = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 00:30 next day in WIB
    assert local_date(instant, "Asia/Jakarta") == date(2026, 3, 3)
    assert local_date(instant, "UTC") == date(2026, 3, 2)
    assert local_date(datetime(2026, 3, 2, 15, 30, tzinfo=UTC), "Asia/Jayapura") == date(2026, 3, 3)


@given(dates, counts)
def test_add_then_measure_is_consistent(start: date, n: int) -> None:
    due = add_working_days(start, n)
    assert working_days_between(clock_start(start), due) == n


@given(dates, counts)
def test_due_date_is_always_a_working_day(start: date, n: int) -> None:
    assert is_working_day(add_working_days(start, n))


@given(dates, counts, counts)
def test_monotonic(start: date, n: int, m: int) -> None:
    low, high = sorted((n, m))
    assert add_working_days(start, low) <= add_working_days(start, high)


@settings(max_examples=60)
@given(dates, st.integers(min_value=0, max_value=400))
def test_fast_count_matches_day_by_day(a: date, span: int) -> None:
    b = a + timedelta(days=span)
    assert working_days_between(a, b) == _slow_between(a, b)
    assert working_days_between(b, a) == 0


@given(dates)
def test_next_working_day_is_next(day: date) -> None:
    nxt = next_working_day(day)
    assert nxt > day and is_working_day(nxt)
    assert working_days_between(day, nxt) == 1
