import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pantau_contracts.redaction import MASK
from pantau_publishing.domain.record import (
    case_document,
    change_documents,
    clean_case,
    clean_change,
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


DISTRICTS = ["Coblong", "Bojongloa Kidul", "Sumur Bandung", "Cibeunying Kaler", "Andir"]
# contract-valid kecamatan values that are really a street or housing address
ADDRESS_LIKE = st.builds(lambda kind, place: f"{kind} {place}",
                         st.sampled_from(["Jl.", "Jln", "Jalan", "Gg.", "Gang", "Komplek",
                                          "Perum", "jl"]),
                         st.sampled_from(["Merdeka", "Dago", "Asia Afrika", "Mawar", "Pasteur"]))


@pytest.mark.parametrize("kecamatan", ["Coblong", "Bojongloa Kidul", None])
def test_a_district_name_is_published(kecamatan: str | None) -> None:
    assert clean_case(public_case(kecamatan=kecamatan)).kecamatan == kecamatan


@pytest.mark.parametrize("kecamatan", ["Jl. Dago", "Gang Mawar", "Komplek Setiabudi",
                                       "jalan Merdeka"])
def test_an_address_in_kecamatan_is_not_published(kecamatan: str) -> None:
    record = public_case()
    record["kecamatan"] = kecamatan  # valid by the contract's pattern, still an address
    case = clean_case(record)
    assert case.kecamatan is None
    assert kecamatan not in str(case_document(case))


@pytest.mark.parametrize("kecamatan", ["Jl. Dago No. 5", "RT 03/RW 05", "budi@example.com",
                                       "081234567890"])
def test_kecamatan_outside_the_contract_is_refused(kecamatan: str) -> None:
    record = public_case()
    record["kecamatan"] = kecamatan
    with pytest.raises(ValidationError):
        clean_case(record)


def test_change_documents_are_rechecked_on_the_way_out() -> None:
    _id, document = change_documents(clean_case(public_case(revision=2)))[-1]
    assert clean_change(document) == document
    leaked = {**document, "note": "hubungi 0812-3456-7890"}  # got into the index unredacted
    assert "0812" not in str(clean_change(leaked)["note"])
    with pytest.raises(ValidationError):
        clean_change({**document, "applicant_name": "Budi Santoso"})
    with pytest.raises(ValidationError):
        clean_change({key: value for key, value in document.items() if key != "status"})


@given(nik=st.from_regex(r"3[1-9][0-9]{14}", fullmatch=True),
       phone=st.from_regex(r"(08|\+628)1[0-9]{8,10}", fullmatch=True),
       email=st.from_regex(r"[a-z]{3,10}@[a-z]{3,8}\.(go\.id|com|id)", fullmatch=True),
       kecamatan=st.one_of(st.none(), st.sampled_from(DISTRICTS), ADDRESS_LIKE),
       filler=st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Zs")),
                      max_size=40))
def test_pattern_personal_data_never_survives_cleaning(nik: str, phone: str, email: str,
                                                       kecamatan: str | None,
                                                       filler: str) -> None:
    note = f"{filler} NIK {nik}, hp {phone}; surel {email}"[:500]
    case = clean_case(public_case(revision=2, note=note, kecamatan=kecamatan))
    document = str(case_document(case)) + str(change_documents(case))
    for secret in (nik, phone, email):
        assert secret not in document
    if kecamatan in DISTRICTS:
        assert case.kecamatan == kecamatan
    else:  # an address is dropped whole, never published half-masked
        assert case.kecamatan is None
        assert MASK not in str(case_document(case)["kecamatan"])
