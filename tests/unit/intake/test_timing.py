"""The future-``time`` rule: a claimed time may be at most ``max_skew`` after the received time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pantau_contracts import ContractViolation, validate_event
from pantau_intake.domain.timing import refuse_future_time, utc_now
from tests.unit.intake.fakes import RECEIVED_AT, body, event


@pytest.mark.parametrize("offset", [timedelta(days=-30), timedelta(0), timedelta(seconds=300)])
def test_up_to_the_skew_is_fine(offset: timedelta) -> None:
    refuse_future_time(validate_event(body(event(time=RECEIVED_AT + offset))), RECEIVED_AT, 300)


def test_later_is_refused_naming_time_with_the_events_ids() -> None:
    raw = event(time=RECEIVED_AT + timedelta(seconds=300, microseconds=1))
    with pytest.raises(ContractViolation) as refused:
        refuse_future_time(validate_event(body(raw)), RECEIVED_AT, 300)
    (problem,) = refused.value.problems
    assert problem.field == "time"
    assert problem.expected == "not later than the server's time plus 300 s"
    assert "2026-03-02T01:15:00.000000Z" in problem.problem  # the server's time, in UTC
    assert (refused.value.event_id, refused.value.source) == (raw["id"], raw["source"])


def test_offsets_are_compared_as_instants() -> None:
    wib = timezone(timedelta(hours=7))
    # 08:19 WIB is 01:19 UTC: 4 minutes after the received time, inside a 300 s skew
    refuse_future_time(validate_event(body(event(time=datetime(2026, 3, 2, 8, 19, tzinfo=wib)))),
                       RECEIVED_AT, 300)
    with pytest.raises(ContractViolation):
        refuse_future_time(validate_event(body(event(time=RECEIVED_AT + timedelta(seconds=1)))),
                           RECEIVED_AT, 0)


def test_the_real_clock_is_aware_utc() -> None:
    now = utc_now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
