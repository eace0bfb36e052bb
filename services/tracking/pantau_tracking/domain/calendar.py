"""Indonesian working days (hari kerja) for the service-level clock.

A working day is Monday-Friday that is neither a national holiday (``public``) nor a cuti bersama
day (``government`` category of the ``holidays`` package — verified: it holds the "Joint Holiday"
days such as 2025-04-02..07 around Idul Fitri). Dates are *local* dates in the jurisdiction's
zone; callers convert UTC instants with ``local_date``.

Conventions (used everywhere in tracking, stated once here):

* The clock starts on ``clock_start(d)``: the submission day itself if it is a working day,
  otherwise the next working day. That day is **day 0**.
* ``working_days_between(a, b)`` counts working days ``d`` with ``a < d <= b`` (0 if ``b <= a``):
  a case submitted Monday and measured Tuesday has used 1 working day.
* ``add_working_days(start, n)`` is the working day ``d`` with
  ``working_days_between(clock_start(start), d) == n`` — the due date for a legal maximum of ``n``
  working days. It is always a working day.
* ``subtract_working_days(day, n)`` goes the other way: the latest working day ``x <= day`` with
  ``working_days_between(x, day) >= n`` — ``n`` working days before ``day`` (for ``n == 0``: ``day``
  itself if it is a working day, else the working day before it). It is always a working day and
  ``subtract_working_days(add_working_days(d, n), n) == clock_start(d)``.
* ``shift_back(instant, n, timezone)`` is the same local wall-clock time on
  ``subtract_working_days(local date, n)``: an instant moved back ``n`` working days (used for
  late-reported steps, see ``reporting``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

HOLIDAY_CATEGORIES = ("public", "government")


@lru_cache(maxsize=64)
def _holidays_of_year(year: int) -> frozenset[date]:
    """National holidays plus cuti bersama of one year (cached per year)."""
    table = holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES)
    return frozenset(table.keys())


def holiday_name(day: date) -> str | None:
    table = holidays.country_holidays("ID", years=day.year, categories=HOLIDAY_CATEGORIES)
    name = table.get(day)
    return str(name) if name is not None else None


def is_working_day(day: date) -> bool:
    """Monday-Friday and not a national holiday or cuti bersama."""
    return day.weekday() < 5 and day not in _holidays_of_year(day.year)


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def clock_start(day: date) -> date:
    """Day 0 of the clock: ``day`` if it is a working day, else the next working day."""
    return day if is_working_day(day) else next_working_day(day)


@lru_cache(maxsize=65536)
def add_working_days(start: date, n: int) -> date:
    """The due date ``n`` working days after ``clock_start(start)`` (``n >= 0``)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = clock_start(start)
    for _ in range(n):
        day = next_working_day(day)
    return day


def previous_working_day(day: date) -> date:
    """The last working day strictly before ``day``."""
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@lru_cache(maxsize=65536)
def subtract_working_days(day: date, n: int) -> date:
    """The latest working day ``x <= day`` with ``working_days_between(x, day) >= n``."""
    if n < 0:
        raise ValueError("n must be >= 0")
    result = day if is_working_day(day) else previous_working_day(day)  # position of ``day``
    for _ in range(n):
        result = previous_working_day(result)
    return result


def working_days_between(a: date, b: date) -> int:
    """Number of working days ``d`` with ``a < d <= b``; 0 when ``b <= a``."""
    if b <= a:
        return 0
    # Whole weeks first (5 weekdays each), then holidays on weekdays in the range.
    total_days = (b - a).days
    weeks, rest = divmod(total_days, 7)
    count = weeks * 5
    day = a + timedelta(days=weeks * 7)
    for _ in range(rest):
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    for year in range(a.year, b.year + 1):
        count -= sum(1 for h in _holidays_of_year(year) if a < h <= b and h.weekday() < 5)
    return count


def local_date(instant: datetime, timezone: str) -> date:
    """The local calendar date of a UTC (or aware) instant in the IANA ``timezone``."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: tracking stores and compares aware UTC instants")
    return instant.astimezone(ZoneInfo(timezone)).date()


def shift_back(instant: datetime, n: int, timezone: str) -> datetime:
    """``instant`` moved back ``n`` working days: the same local wall-clock time on
    ``subtract_working_days(local date, n)``, as UTC."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: tracking stores and compares aware UTC instants")
    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone)
    day = subtract_working_days(local.date(), n)
    return datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)
