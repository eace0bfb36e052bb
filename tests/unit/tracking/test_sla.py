"""The SLA clock: due dates, pauses (dikembalikan) and overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pantau_tracking.domain.calendar import is_working_day
from pantau_tracking.domain.sla import Pause, compute_sla, step_durations

TZ = "Asia/Jakarta"


def at(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)  # 10:00 WIB


def test_simple_clock() -> None:
    monday = date(2026, 3, 2)
    sla = compute_sla(timezone=TZ, submitted_at=at(monday), max_working_days=5, pauses=[],
                      closed_at=None, now=at(date(2026, 3, 4)))
    assert sla.due_date == date(2026, 3, 9)
    assert sla.elapsed == 2 and sla.remaining == 3 and not sla.overdue and not sla.paused
    late = compute_sla(timezone=TZ, submitted_at=at(monday), max_working_days=5, pauses=[],
                       closed_at=None, now=at(date(2026, 3, 10)))
    assert late.overdue and late.remaining == 0


def test_pause_pushes_due_date_and_does_not_count() -> None:
    monday = date(2026, 3, 2)
    pause = Pause(at(date(2026, 3, 3)), at(date(2026, 3, 5)))  # Tue -> Thu: 2 paused days
    sla = compute_sla(timezone=TZ, submitted_at=at(monday), max_working_days=5, pauses=[pause],
                      closed_at=None, now=at(date(2026, 3, 6)))
    assert sla.paused_days == 2
    assert sla.elapsed == 2
    assert sla.due_date == date(2026, 3, 11)
    open_pause = compute_sla(timezone=TZ, submitted_at=at(monday), max_working_days=5,
                             pauses=[Pause(at(date(2026, 3, 3)), None)], closed_at=None,
                             now=at(date(2026, 3, 20)))
    assert open_pause.paused and open_pause.elapsed == 1 and not open_pause.overdue


def test_closed_clock_is_frozen() -> None:
    monday = date(2026, 3, 2)
    sla = compute_sla(timezone=TZ, submitted_at=at(monday), max_working_days=5, pauses=[],
                      closed_at=at(date(2026, 3, 3)), now=at(date(2026, 6, 1)))
    assert sla.closed and sla.elapsed == 1 and sla.remaining is None and not sla.overdue


def test_step_durations() -> None:
    starts = [at(date(2026, 3, 2)), at(date(2026, 3, 4)), at(date(2026, 3, 4), 8)]
    ends = [*starts[1:], at(date(2026, 3, 9))]
    assert step_durations(starts, ends, TZ) == [2, 0, 3]
    # A step's end is the next step's counted time; an end before the start lasts 0 days.
    assert step_durations([at(date(2026, 3, 4))], [at(date(2026, 3, 2))], TZ) == [0]


def test_a_pause_before_day_zero_starts_at_day_zero() -> None:
    saturday, monday = date(2026, 3, 7), date(2026, 3, 9)
    pause = Pause(at(saturday, 5), at(date(2026, 3, 11)))  # returned Saturday, resumed Wed
    sla = compute_sla(timezone=TZ, submitted_at=at(saturday), max_working_days=5,
                      pauses=[pause], closed_at=None, now=at(date(2026, 3, 12)))
    assert sla.start_date == monday
    assert sla.paused_days == 2  # Tue, Wed (day 0 itself is never paused)
    assert sla.elapsed == 1  # Thu


days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 1))


@st.composite
def scenario(draw: st.DrawFn) -> tuple[date, list[Pause], datetime, int]:
    start = draw(days)
    offsets = sorted(draw(st.lists(st.integers(0, 80), min_size=0, max_size=6)))
    if len(offsets) % 2:
        offsets.append(offsets[-1] + draw(st.integers(0, 10)))
    pauses = [Pause(at(start + timedelta(days=a)), at(start + timedelta(days=b)))
              for a, b in zip(offsets[::2], offsets[1::2], strict=True)]
    now = at(start + timedelta(days=draw(st.integers(0, 120))))
    return start, pauses, now, draw(st.integers(1, 30))


@given(scenario())
def test_pauses_never_count(case: tuple[date, list[Pause], datetime, int]) -> None:
    start, pauses, now, max_days = case
    with_pauses = compute_sla(timezone=TZ, submitted_at=at(start), max_working_days=max_days,
                              pauses=pauses, closed_at=None, now=now)
    without = compute_sla(timezone=TZ, submitted_at=at(start), max_working_days=max_days,
                          pauses=[], closed_at=None, now=now)
    assert with_pauses.elapsed == max(0, without.elapsed - with_pauses.paused_days)
    assert with_pauses.due_date >= without.due_date
    assert is_working_day(with_pauses.due_date)


@given(scenario(), st.integers(0, 30))
def test_elapsed_is_monotonic_in_time(case: tuple[date, list[Pause], datetime, int],
                                      extra: int) -> None:
    start, pauses, now, max_days = case
    earlier = compute_sla(timezone=TZ, submitted_at=at(start), max_working_days=max_days,
                          pauses=pauses, closed_at=None, now=now)
    later = compute_sla(timezone=TZ, submitted_at=at(start), max_working_days=max_days,
                        pauses=pauses, closed_at=None, now=now + timedelta(days=extra))
    assert later.elapsed >= earlier.elapsed
    assert later.due_date >= earlier.due_date
    if earlier.overdue and not pauses:
        assert later.overdue


@given(days, st.integers(0, 40), st.integers(1, 30))
def test_open_pause_freezes_elapsed(start: date, pause_after: int, max_days: int) -> None:
    pause = Pause(at(start + timedelta(days=pause_after)), None)
    frozen = [compute_sla(timezone=TZ, submitted_at=at(start), max_working_days=max_days,
                          pauses=[pause], closed_at=None,
                          now=at(start + timedelta(days=pause_after + k))).elapsed
              for k in (0, 7, 30)]
    assert frozen[0] == frozen[1] == frozen[2]


def test_clock_counts_in_the_jurisdiction_zone() -> None:
    # 16:30 UTC Friday 6 March = 01:30 Saturday in Jayapura (WIT, UTC+9): day 0 is Monday there,
    # while in Jakarta (WIB, UTC+7) it is still Friday 23:30.
    instant = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    wit = compute_sla(timezone="Asia/Jayapura", submitted_at=instant, max_working_days=1,
                      pauses=[], closed_at=None, now=instant)
    wib = compute_sla(timezone="Asia/Jakarta", submitted_at=instant, max_working_days=1,
                      pauses=[], closed_at=None, now=instant)
    assert wit.start_date == date(2026, 3, 9) and wit.due_date == date(2026, 3, 10)
    assert wib.start_date == date(2026, 3, 6) and wib.due_date == date(2026, 3, 9)
