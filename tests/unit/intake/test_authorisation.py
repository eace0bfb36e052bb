"""Authorisation rules with a fake directory, and the catalogue adapter's receipt ownership."""

from __future__ import annotations

from typing import Any

import pytest

from pantau_contracts import validate_event
from pantau_intake.adapters.directory import CatalogueDirectory
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.problems import Problem
from pantau_intake.service.authorisation import authorise
from tests.unit.intake.fakes import DISDUKCAPIL, DPMPTSP, FakeDirectory, body, event


def refused(department: DepartmentRef, raw: dict[str, Any]) -> Problem:
    with pytest.raises(Problem) as caught:
        authorise(department, validate_event(body(raw)), FakeDirectory())
    return caught.value


@pytest.mark.parametrize("type_", ["case.submitted", "case.stage_started", "case.completed"])
def test_own_receipts_are_allowed_for_every_event_type(type_: str) -> None:
    authorise(DPMPTSP, validate_event(body(event(type_, receipt_number="BDG-SLF-2026-1"))),
              FakeDirectory())


@pytest.mark.parametrize("type_", ["case.submitted", "case.stage_started", "case.withdrawn"])
def test_a_receipt_outside_the_senders_prefixes_is_403(type_: str) -> None:
    problem = refused(DPMPTSP, event(type_, receipt_number="BDG-KE-2026-000001"))
    assert problem.status == 403 and problem.slug == "forbidden"
    (error,) = problem.errors
    assert error.field == "data.receipt_number"
    assert error.expected == "a receipt number starting with one of: BDG-PBG-, BDG-SLF-"
    assert "BDG-KE-2026-000001" in error.problem


def test_the_receipt_rule_applies_to_the_other_department_too() -> None:
    source = "/kota-bandung/disdukcapil"
    authorise(DISDUKCAPIL, validate_event(body(event(source=source, service_code="ktp-el"))),
              FakeDirectory())
    problem = refused(DISDUKCAPIL, event(source=source, service_code="ktp-el",
                                         receipt_number="BDG-PBG-2026-000001"))
    assert problem.errors[0].expected == "a receipt number starting with one of: BDG-KE-, BDG-AK-"


def test_source_is_checked_before_the_receipt() -> None:
    problem = refused(DPMPTSP, event(source="/kota-bandung/disdukcapil", service_code="ktp-el"))
    assert problem.errors[0].field == "source"


def test_catalogue_directory_answers_receipt_ownership_from_the_catalogue() -> None:
    directory = CatalogueDirectory()
    assert directory.receipt_prefixes("kota-bandung", "dpmptsp")[:2] == ("BDG-PBG-", "BDG-SLF-")
    assert directory.owns_receipt("kota-bandung", "dpmptsp", "BDG-PBG-2026-000001")
    assert not directory.owns_receipt("kota-bandung", "dishub", "BDG-PBG-2026-000001")
    assert directory.owns_receipt("kota-bandung", "dishub", "BDG-UB-2026-000001")
    assert not directory.owns_receipt("kab-bandung", "dpmptsp", "BDG-PBG-2026-000001")
    assert directory.owns_receipt("kab-bandung", "dpmptsp", "KABBDG-PBG-2026-000001")
    assert directory.receipt_prefixes("kota-bandung", "nope") == ()
    assert not directory.owns_receipt("kota-bandung", "nope", "BDG-PBG-2026-000001")


def test_dishub_squatting_a_dpmptsp_receipt_is_refused_on_the_real_catalogue() -> None:
    dishub = DepartmentRef("kota-bandung", "dishub")
    raw = event(source="/kota-bandung/dishub", service_code="andalalin",
                receipt_number="BDG-PBG-2026-000001")
    with pytest.raises(Problem) as caught:
        authorise(dishub, validate_event(body(raw)), CatalogueDirectory())
    assert caught.value.errors[0].field == "data.receipt_number"
    assert caught.value.errors[0].expected == \
        "a receipt number starting with one of: BDG-ANDALALIN-, BDG-UB-"
