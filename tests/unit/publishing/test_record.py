import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pantau_publishing.domain.record import (
    case_document,
    change_documents,
    clean_case,
    sla_met,
)
from tests.unit.publishing.factories import public_case


def test_notes_are_redacted_again() -> None:
    record = public_case(revision=2, note="Hubungi 0812-3456-7890 atau budi@example.com, "
                                          "NIK 3273011203850001, Jl. Dago No. 5")
    case = clean_case(record)
    note = case.timeline[-1].note or ""
    for secret in ("0812", "budi@example.com", "3273011203850001", "Dago"):
        assert secret not in note
    assert "[disamarkan]" in note


def test_fields_outside_the_allowlist_are_refused() -> None:
    record = public_case()
    record["applicant_name"] = "Budi Santoso"
    with pytest.raises(ValidationError):
        clean_case(record)


def test_document_has_derived_flags_and_round_trips() -> None:
    document = case_document(clean_case(public_case(revision=4, elapsed=9.0)))
    assert document["open"] is False and document["sla_met"] is True
    assert clean_case(document).revision == 4  # derived fields are dropped on the way back


def test_late_completion_does_not_meet_the_legal_maximum() -> None:
    assert sla_met(clean_case(public_case(revision=4, elapsed=12.0))) is False
    assert sla_met(clean_case(public_case(revision=2))) is None


def test_one_change_document_per_timeline_entry() -> None:
    changes = change_documents(clean_case(public_case("BDG-PBG-2026-000001", revision=3)))
    assert [doc_id for doc_id, _doc in changes] == [
        "BDG-PBG-2026-000001-00001", "BDG-PBG-2026-000001-00002", "BDG-PBG-2026-000001-00003"]
    assert changes[-1][1]["status"] == "diproses"


@given(nik=st.from_regex(r"3[1-9][0-9]{14}", fullmatch=True),
       phone=st.from_regex(r"(08|\+628)1[0-9]{8,10}", fullmatch=True),
       email=st.from_regex(r"[a-z]{3,10}@[a-z]{3,8}\.(go\.id|com|id)", fullmatch=True),
       filler=st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs")),
                      max_size=40))
def test_pattern_personal_data_never_survives_cleaning(nik: str, phone: str, email: str,
                                                       filler: str) -> None:
    note = f"{filler} NIK {nik}, hp {phone}; surel {email}"[:500]
    case = clean_case(public_case(revision=2, note=note))
    document = str(case_document(case))
    for secret in (nik, phone, email):
        assert secret not in document
