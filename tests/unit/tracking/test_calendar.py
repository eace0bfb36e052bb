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
    previous_working_day,
    shift_back,
    subtract_working_days,
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


def test_subtract_working_days_known_dates() -> None:
    tuesday, saturday = date(2026, 3, 3), date(2026, 3, 7)
    assert subtract_working_days(tuesday, 0) == tuesday
    assert subtract_working_days(tuesday, 1) == date(2026, 3, 2)
    assert subtract_working_days(tuesday, 2) == date(2026, 2, 27)  # over the weekend
    assert subtract_working_days(saturday, 0) == date(2026, 3, 6)  # a weekend day sits on Friday
    assert subtract_working_days(saturday, 1) == date(2026, 3, 5)
    # Over Lebaran 2025 (28 Mar - 7 Apr off): one working day before Tuesday 8 April is 27 March.
    assert subtract_working_days(date(2025, 4, 8), 1) == date(2025, 3, 27)


def test_shift_back_keeps_the_local_wall_clock_time() -> None:
    received = datetime(2026, 3, 3, 7, 30, tzinfo=UTC)  # Tuesday 14:30 WIB
    assert shift_back(received, 1, "Asia/Jakarta") == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert shift_back(received, 0, "Asia/Jakarta") == received
    # 20:00 UTC Monday is 03:00 Tuesday in Jakarta: one working day back is Monday 03:00 WIB.
    late_evening = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    assert shift_back(late_evening, 1, "Asia/Jakarta") == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


@given(dates, st.integers(min_value=0, max_value=30))
def test_subtract_is_the_latest_working_day_that_far_back(day: date, n: int) -> None:
    back = subtract_working_days(day, n)
    assert is_working_day(back) and back <= day
    assert working_days_between(back, day) == n
    later = next_working_day(back)
    assert later > day or working_days_between(later, day) < n


@given(dates, st.integers(min_value=0, max_value=30))
def test_subtract_undoes_add(start: date, n: int) -> None:
    assert subtract_working_days(add_working_days(start, n), n) == clock_start(start)


@given(dates)
def test_previous_working_day_is_previous(day: date) -> None:
    before = previous_working_day(day)
    assert before < day and is_working_day(before)
    assert next_working_day(before) >= day
