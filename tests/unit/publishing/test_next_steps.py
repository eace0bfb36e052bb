"""What happens next (domain.guidance): which guidance applies on every status, the returned or
rejected step's reason, and where the complaint route, keberatan and the survey are offered."""

from __future__ import annotations

from typing import Any

import pytest

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.guidance import SITUATIONS, latest_note, next_step
from tests.unit.publishing.factories import public_case


def case(**kwargs: Any) -> PublicCaseV2:
    return PublicCaseV2.model_validate(public_case(**kwargs))


def with_step(record: dict[str, Any], status: str, note: str | None) -> PublicCaseV2:
    """``record`` with one more timeline step of ``status`` carrying ``note``."""
    last = record["timeline"][-1]
    step = {**last, "seq": last["seq"] + 1, "status": status, "note": note,
            "stage_code": None, "stage_name": None}
    final = status in ("ditolak", "selesai")
    record.update(status=status, timeline=[*record["timeline"], step],
                  paused=status == "dikembalikan",
                  closed_at=last["at"] if final else None,
                  working_days_remaining=None if final else 3.0)
    return PublicCaseV2.model_validate(record)


def test_an_open_case_on_time_waits() -> None:
    step = next_step(case(revision=2))
    assert (step.situation, step.complaint_route, step.appeal, step.survey) == \
        ("waiting", False, False, False)


def test_an_overdue_case_offers_the_complaint_route() -> None:
    step = next_step(case(revision=3, overdue=True, elapsed=14))
    assert step.situation == "overdue" and step.complaint_route and not step.survey


def test_a_returned_case_shows_the_latest_reason_of_that_step() -> None:
    record = public_case(revision=3, note="Berkas lama")
    returned = with_step(record, "dikembalikan", "Lampirkan gambar struktur yang ditandatangani")
    step = next_step(returned)
    assert step.situation == "returned" and step.complaint_route and not step.appeal
    assert step.reason == "Lampirkan gambar struktur yang ditandatangani"


def test_a_returned_case_without_a_note_has_no_reason() -> None:
    step = next_step(with_step(public_case(revision=3), "dikembalikan", None))
    assert step.situation == "returned" and step.reason is None


def test_a_rejected_case_offers_keberatan_complaint_and_survey() -> None:
    step = next_step(with_step(public_case(revision=3), "ditolak", "Tidak sesuai KRK"))
    assert (step.situation, step.reason, step.appeal, step.complaint_route, step.survey) == \
        ("rejected", "Tidak sesuai KRK", True, True, True)


def test_completed_on_time_and_late() -> None:
    on_time = next_step(case(revision=4, status="selesai", elapsed=5))
    late = next_step(case(revision=4, status="selesai", elapsed=12))
    assert on_time.situation == "completed" and not on_time.complaint_route and on_time.survey
    assert late.situation == "completed_late" and late.complaint_route and late.survey


def test_a_withdrawn_case_is_closed_without_complaint() -> None:
    step = next_step(case(revision=3, withdrawn=True))
    assert step.situation == "withdrawn" and not step.complaint_route and step.survey


@pytest.mark.parametrize("status", ["diterima", "verifikasi", "diproses", "selesai",
                                    "dibatalkan"])
def test_every_status_has_a_situation(status: str) -> None:
    assert next_step(case(revision=4, status=status)).situation in SITUATIONS


def test_latest_note_takes_the_newest_step_of_that_status() -> None:
    record = public_case(revision=3)
    first = with_step(record, "dikembalikan", "Pertama")
    data = first.model_dump(mode="json")
    resumed = {**data["timeline"][-1], "seq": 5, "status": "diproses", "note": None}
    again = {**resumed, "seq": 6, "status": "dikembalikan", "note": "Kedua"}
    data.update(timeline=[*data["timeline"], resumed, again])
    assert latest_note(PublicCaseV2.model_validate(data), first.status) == "Kedua"
