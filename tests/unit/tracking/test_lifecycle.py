"""Case lifecycle: transitions, refusals with reasons, the public record."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pantau_contracts.vocabulary import PublicStatus
from pantau_tracking.domain.case import Case
from pantau_tracking.domain.lifecycle import (
    Accepted,
    Refusal,
    apply_event,
    mark_overdue,
    open_case,
)
from pantau_tracking.domain.public_record import stage_report, to_public

from .factories import APPLICANT, CATALOGUE, T0, inbound

PBG = CATALOGUE.definition("kota-bandung", "pbg")


def opened() -> Case:
    outcome = open_case(inbound("case.submitted", applicant=APPLICANT), PBG, None)
    assert isinstance(outcome, Accepted)
    return outcome.case


def accept(case: Case, event_type: str, **kw: object) -> Case:
    outcome = apply_event(case, inbound(event_type, **kw))  # type: ignore[arg-type]
    assert isinstance(outcome, Accepted), outcome
    return outcome.case


def refuse(case: Case | None, event_type: str, **kw: object) -> Refusal:
    outcome = apply_event(case, inbound(event_type, **kw))  # type: ignore[arg-type]
    assert isinstance(outcome, Refusal), outcome
    return outcome


def test_happy_path_with_pause() -> None:
    case = opened()
    assert case.status is PublicStatus.DITERIMA and case.revision == 1
    case = accept(case, "case.stage_started", stage="verifikasi-berkas",
                  time=T0 + timedelta(days=1))
    assert case.status is PublicStatus.VERIFIKASI
    case = accept(case, "case.returned", time=T0 + timedelta(days=2))
    assert case.paused
    case = accept(case, "case.resumed", time=T0 + timedelta(days=4))
    assert case.status is PublicStatus.VERIFIKASI and case.stage_code == "verifikasi-berkas"
    case = accept(case, "case.stage_started", stage="penerbitan", time=T0 + timedelta(days=7))
    assert case.status is PublicStatus.DIPROSES  # skipping forward is allowed
    case = accept(case, "case.completed", time=T0 + timedelta(days=8))
    assert case.status is PublicStatus.SELESAI and case.closed_at is not None
    assert case.revision == 6 == len(case.history)
    public = to_public(case, T0 + timedelta(days=30))
    assert public.revision == 6 and public.timeline[-1].working_days is None
    assert public.timeline[2].working_days == 2.0  # Wed -> Fri, paused
    assert public.working_days_elapsed == 4.0  # 6 working days minus 2 paused
    assert not public.overdue and not public.paused
    assert stage_report(case, T0)[-1]["current"] is True


def test_refusals_have_reasons() -> None:
    case = opened()
    assert refuse(None, "case.completed").reason == "unknown-case"
    assert refuse(case, "case.completed", department="disdukcapil").reason == "wrong-department"
    assert refuse(case, "case.stage_started", stage="cetak").reason == "unknown-stage"
    assert refuse(case, "case.resumed").reason == "not-paused"
    case = accept(case, "case.stage_started", stage="konsultasi-teknis")
    assert refuse(case, "case.stage_started", stage="verifikasi-berkas").reason == "stage-order"
    assert refuse(case, "case.stage_started", stage="konsultasi-teknis").reason == "stage-order"
    case = accept(case, "case.returned")
    assert refuse(case, "case.returned").reason == "already-paused"
    assert refuse(case, "case.stage_started", stage="penerbitan").reason == "case-paused"
    case = accept(case, "case.withdrawn")
    refusal = refuse(case, "case.resumed")
    assert refusal.reason == "case-closed" and "dibatalkan" in refusal.detail
    assert to_public(case, T0).withdrawn


def test_open_case_refusals() -> None:
    case = opened()
    dup = open_case(inbound("case.submitted", department="dpmptsp"), PBG, case)
    assert isinstance(dup, Refusal) and dup.reason == "duplicate-receipt"
    other = open_case(inbound("case.submitted", department="disdukcapil"), PBG, None)
    assert isinstance(other, Refusal) and other.reason == "wrong-department"
    unknown = open_case(inbound("case.submitted", service_code="nope"), None, None)
    assert isinstance(unknown, Refusal) and unknown.reason == "unknown-service"


def test_public_record_has_no_private_data() -> None:
    case = opened()
    case = accept(case, "case.returned",
                  reason="Bu Siti Nurhaliza (NIK 3273012345678901, hp 081234567890) "
                         "harap melengkapi KRK")
    text = to_public(case, T0).model_dump_json()
    for value in APPLICANT.values():
        assert value not in text
    assert "Nurhaliza" not in text and "Siti" not in text
    assert "KRK" in text


def test_overdue_mark_grows_revision() -> None:
    case = opened()
    public = to_public(case, T0 + timedelta(days=60))
    assert public.overdue
    case = mark_overdue(case, T0 + timedelta(days=60))
    assert case.revision == 2 and case.overdue_reported


EVENT_TYPES = ["case.stage_started", "case.returned", "case.resumed", "case.rejected",
               "case.completed", "case.withdrawn"]
STAGES = [s.code for s in PBG.service.stages] + ["bukan-tahap"]


class LifecycleMachine(RuleBasedStateMachine):
    """Random event sequences: the case only ever moves in allowed ways."""

    def __init__(self) -> None:
        super().__init__()
        self.case = opened()
        self.clock = T0
        self.max_stage = -1

    @rule(event_type=st.sampled_from(EVENT_TYPES), stage=st.sampled_from(STAGES),
          hours=st.integers(-30, 200), reported_after=st.integers(0, 300))
    def send(self, event_type: str, stage: str, hours: int, reported_after: int) -> None:
        self.clock += timedelta(hours=hours)
        received = self.clock + timedelta(hours=reported_after)
        before = (self.case.status, self.case.stage_code, self.case.revision,
                  len(self.case.history))
        was_final, was_paused = self.case.is_final, self.case.paused
        extra = {"stage": stage} if event_type == "case.stage_started" else {}
        outcome = apply_event(self.case, inbound(event_type, time=self.clock, received=received,
                                                 **extra))
        if isinstance(outcome, Refusal):
            assert (self.case.status, self.case.stage_code, self.case.revision,
                    len(self.case.history)) == before
            return
        assert not was_final
        if event_type == "case.resumed":
            assert was_paused
        if event_type == "case.stage_started":
            assert not was_paused
            index = PBG.service.stage_index(stage)
            assert index is not None and index > self.max_stage
            self.max_stage = index
        assert self.case.revision == before[2] + 1

    @precondition(lambda self: not self.case.is_final)
    @rule()
    def overdue_check(self) -> None:
        if to_public(self.case, self.clock).overdue and not self.case.overdue_reported:
            mark_overdue(self.case, self.clock)

    @invariant()
    def consistent(self) -> None:
        case = self.case
        assert case.revision >= len(case.history)
        assert [h.seq for h in case.history] == list(range(1, len(case.history) + 1))
        times = [h.at for h in case.history]
        assert times == sorted(times)
        assert case.history[-1].status is case.status
        assert (case.closed_at is not None) == case.is_final
        if case.closed_at is not None:
            assert case.closed_at == case.history[-1].counted_at
        tolerance = case.definition.reporting_tolerance
        for entry in case.history:
            assert entry.at <= entry.counted_at
            assert entry.late_reported == (entry.reporting_delay_days > tolerance)
        public = to_public(case, self.clock)
        assert public.revision == case.revision
        assert public.paused == case.paused
        assert public.working_days_elapsed >= 0
        assert "3273012345678901" not in public.model_dump_json()
        assert public.late_reported == any(t.late_reported for t in public.timeline)


LifecycleMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25,
                                              deadline=None)
TestLifecycle = LifecycleMachine.TestCase
