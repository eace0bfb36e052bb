"""Two clocks: claimed vs received vs counted time, late reports, and why back-dating never helps.

The property test drives whole lifecycles whose claims are anything up to the received time plus
the 5-minute skew intake allows, and compares the domain's verdict with a *reference* that
believes nothing it cannot vouch for: every start-type time (submission, resume, step start) is
the received time ``r``, every end-type time (return, close, step end) is ``r`` moved back the
tolerance ``T``. The domain must never be better for the department than that reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pantau_contracts.catalogue import ServiceDefinition
from pantau_tracking.domain.calendar import local_date, shift_back, working_days_between
from pantau_tracking.domain.case import Case
from pantau_tracking.domain.lifecycle import Accepted, apply_event, open_case, step_times
from pantau_tracking.domain.public_record import (
    case_durations,
    case_sla,
    stage_report,
    to_public,
)
from pantau_tracking.domain.sla import Pause, compute_sla

from .factories import CATALOGUE, inbound

PBG = CATALOGUE.definition("kota-bandung", "pbg")
assert PBG is not None
TZ = PBG.timezone
SKEW = timedelta(minutes=5)
TODAY = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB, no holiday for 70 days


def definition(tolerance: int, max_days: int | None = None) -> ServiceDefinition:
    service = PBG.service if max_days is None else PBG.service.model_copy(
        update={"max_working_days": max_days})
    return PBG.model_copy(update={"reporting_tolerance": tolerance, "service": service})


def run(steps: list[tuple[str, datetime, datetime, dict[str, str]]],
        tolerance: int = 1, max_days: int | None = None) -> Case:
    """Apply (type, claimed, received, data) steps; every one must be accepted."""
    (kind, claimed, received, data), *rest = steps
    opened = open_case(inbound(kind, time=claimed, received=received, **data),
                       definition(tolerance, max_days), None)
    assert isinstance(opened, Accepted), opened
    case = opened.case
    for kind, claimed, received, data in rest:
        outcome = apply_event(case, inbound(kind, time=claimed, received=received, **data))
        assert isinstance(outcome, Accepted), outcome
    return case


# -- the rules for one step ---------------------------------------------------------------------

def test_timely_report_counts_as_claimed() -> None:
    claimed = TODAY - timedelta(hours=20)  # Sunday 14:00 WIB, received Monday: 1 working day
    times = step_times(claimed=claimed, received=TODAY, previous_at=None, tolerance=1,
                       timezone=TZ)
    assert times.at == times.counted_at == claimed and times.received_at == TODAY
    assert times.reporting_delay_days == 1 and not times.late_reported


def test_late_report_is_counted_tolerance_days_before_receipt() -> None:
    claimed = TODAY - timedelta(days=7)  # the Monday before
    times = step_times(claimed=claimed, received=TODAY, previous_at=None, tolerance=1,
                       timezone=TZ)
    assert times.at == claimed and times.late_reported and times.reporting_delay_days == 5
    assert times.counted_at == TODAY - timedelta(days=3)  # Friday, same 10:00 WIB
    strict = step_times(claimed=claimed, received=TODAY, previous_at=None, tolerance=0,
                        timezone=TZ)
    assert strict.late_reported and strict.counted_at == TODAY


def test_claims_are_clamped_to_receipt_and_to_the_previous_step() -> None:
    future = step_times(claimed=TODAY + SKEW, received=TODAY, previous_at=None, tolerance=1,
                        timezone=TZ)
    assert future.at == future.counted_at == TODAY and not future.late_reported
    previous = TODAY - timedelta(days=1)
    earlier = step_times(claimed=TODAY - timedelta(days=30), received=TODAY,
                         previous_at=previous, tolerance=1, timezone=TZ)
    assert earlier.at == previous  # never before the previous step
    assert earlier.counted_at >= earlier.at


def test_two_clocks_reach_the_public_record_and_the_stage_report() -> None:
    claimed = TODAY - timedelta(days=7)
    case = run([("case.submitted", claimed, claimed, {}),
                ("case.stage_started", claimed, TODAY, {"stage": "verifikasi-berkas"})])
    public = to_public(case, TODAY)
    assert public.reporting_tolerance_days == 1 and public.late_reported
    first, second = public.timeline
    assert not first.late_reported and first.received_at == first.counted_at == claimed
    assert second.late_reported and second.at == claimed and second.received_at == TODAY
    assert second.counted_at == TODAY - timedelta(days=3) and second.reporting_delay_days == 5
    assert first.working_days == 4.0  # from Monday to Friday (the counted time), not 0
    report = stage_report(case, TODAY)
    assert report[1]["received_at"] == TODAY.isoformat()
    assert report[1]["counted_at"] == (TODAY - timedelta(days=3)).isoformat()
    assert report[1]["late_reported"] is True and report[1]["reporting_delay_days"] == 5


def test_the_issue_back_dated_lifecycle_is_late_and_overdue() -> None:
    """Submitted "60 days ago" and completed "59 days ago", both reported today: the case must
    not look like a one-day job done on time."""
    submitted, completed = TODAY - timedelta(days=60), TODAY - timedelta(days=59)
    case = run([("case.submitted", submitted, TODAY, {}),
                ("case.completed", completed, TODAY, {})])
    first, last = case.history
    assert first.late_reported and last.late_reported
    delay = working_days_between(local_date(submitted, TZ), local_date(TODAY, TZ))
    assert first.reporting_delay_days == delay == 42  # 60 calendar days, no holiday
    assert case.submitted_at == submitted  # the clock starts at the claim (earlier: worse)
    assert case.closed_at == last.counted_at == shift_back(TODAY, 1, TZ)
    sla = case_sla(case, TODAY)
    assert sla.elapsed >= delay - 1 > case.definition.service.max_working_days
    assert sla.overdue
    public = to_public(case, TODAY)
    assert public.overdue and public.late_reported
    assert public.timeline[0].working_days == float(sla.elapsed)


def test_late_return_shortens_the_pause_not_the_clock() -> None:
    monday = datetime(2026, 3, 2, 3, tzinfo=UTC)
    day = timedelta(days=1)
    honest = run([("case.submitted", monday, monday, {}),
                  ("case.returned", monday + day, monday + day, {}),
                  ("case.resumed", monday + 10 * day, monday + 10 * day, {})])
    # The same return, reported a week later and claimed back-dated: paused for less.
    late = run([("case.submitted", monday, monday, {}),
                ("case.returned", monday + day, monday + 8 * day, {}),
                ("case.resumed", monday + 10 * day, monday + 10 * day, {})])
    assert late.history[1].late_reported and late.pauses()[0].start > honest.pauses()[0].start
    now = monday + 14 * day
    assert case_sla(late, now).paused_days < case_sla(honest, now).paused_days
    assert case_sla(late, now).elapsed > case_sla(honest, now).elapsed


# -- the property: back-dating never helps ------------------------------------------------------

@dataclass(frozen=True)
class Step:
    kind: str
    data: dict[str, str]
    received: datetime
    claimed: datetime


STAGES = [s.code for s in PBG.service.stages]
CLOSERS = ["case.completed", "case.rejected", "case.withdrawn"]
# How far a claim lies before its receipt (seconds): ahead by up to the skew, honest, a few days
# (around the tolerance), or weeks.
BACK_DATING = st.one_of(st.just(0), st.integers(-int(SKEW.total_seconds()), 3600),
                        st.integers(0, 5 * 86400), st.integers(0, 90 * 86400))


@st.composite
def lifecycles(draw: st.DrawFn) -> tuple[list[Step], int, int, datetime]:
    """A valid lifecycle: received times non-decreasing, each claim <= received + skew."""
    received = datetime.combine(draw(st.dates(date(2025, 1, 1), date(2026, 10, 1))),
                                datetime.min.time(), tzinfo=UTC)
    received += timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
    kinds: list[tuple[str, dict[str, str]]] = [("case.submitted", {})]
    paused, stage = False, -1
    for _ in range(draw(st.integers(0, 7))):
        options = ["case.resumed"] if paused else ["case.returned"]
        if not paused and stage + 1 < len(STAGES):
            options.append("case.stage_started")
        kind = draw(st.sampled_from([*options, *CLOSERS]))
        data: dict[str, str] = {}
        if kind == "case.stage_started":
            stage = draw(st.integers(stage + 1, len(STAGES) - 1))
            data = {"stage": STAGES[stage]}
        kinds.append((kind, data))
        paused = (paused or kind == "case.returned") and kind != "case.resumed"
        if kind in CLOSERS:
            break
    steps = []
    for i, (kind, data) in enumerate(kinds):
        if i:
            received += timedelta(seconds=draw(st.integers(0, 12 * 86400)))
        back = draw(BACK_DATING)
        steps.append(Step(kind, data, received, received - timedelta(seconds=back)))
    now = received + timedelta(seconds=draw(st.integers(0, 40 * 86400)))
    return steps, draw(st.integers(0, 3)), draw(st.integers(1, 30)), now


def reference(steps: list[Step], tolerance: int, max_days: int, now: datetime
              ) -> tuple[int, bool, list[int]]:
    """(elapsed, overdue, step durations) believing only received times (ends less ``T``)."""
    def end(at: datetime) -> datetime:
        return shift_back(at, tolerance, TZ)

    pauses = [Pause(end(s.received), steps[i + 1].received if i + 1 < len(steps) else None)
              for i, s in enumerate(steps) if s.kind == "case.returned"]
    closed = end(steps[-1].received) if steps[-1].kind in CLOSERS else None
    sla = compute_sla(timezone=TZ, submitted_at=steps[0].received, max_working_days=max_days,
                      pauses=pauses, closed_at=closed, now=now)
    bounds = [end(s.received) for s in steps[1:]] + [closed or now]
    durations = [working_days_between(local_date(s.received, TZ), local_date(b, TZ))
                 for s, b in zip(steps, bounds, strict=True)]
    return sla.elapsed, sla.overdue, durations


MONDAY = datetime(2026, 3, 2, 3, tzinfo=UTC)
DAY = timedelta(days=1)


@settings(max_examples=500, deadline=None)
@given(lifecycles())
@example(([Step("case.submitted", {}, MONDAY, MONDAY),  # a return claimed 8 days back
           Step("case.returned", {}, MONDAY + 9 * DAY, MONDAY + DAY),
           Step("case.resumed", {}, MONDAY + 10 * DAY, MONDAY + 10 * DAY)],
          1, 28, MONDAY + 14 * DAY))
@example(([Step("case.submitted", {}, MONDAY, MONDAY),  # a close claimed 8 days back
           Step("case.completed", {}, MONDAY + 9 * DAY, MONDAY + DAY)],
          1, 3, MONDAY + 14 * DAY))
def test_back_dating_never_beats_the_received_times(
        scenario: tuple[list[Step], int, int, datetime]) -> None:
    steps, tolerance, max_days, now = scenario
    case = run([(s.kind, s.claimed, s.received, s.data) for s in steps], tolerance, max_days)
    for entry, step in zip(case.history, steps, strict=True):
        assert entry.at <= entry.counted_at <= entry.received_at == step.received
        assert entry.late_reported == (entry.reporting_delay_days > tolerance)
    ref_elapsed, ref_overdue, ref_durations = reference(steps, tolerance, max_days, now)
    sla = case_sla(case, now)
    assert sla.elapsed >= ref_elapsed
    assert sla.overdue or not ref_overdue
    durations = case_durations(case, now)
    assert all(d >= r for d, r in zip(durations, ref_durations, strict=True)), \
        (durations, ref_durations)
    assert to_public(case, now).overdue == sla.overdue
