"""Privacy of the public record: ``kecamatan`` is free text from the department, so an applicant's
name typed there must never reach ``PublicCaseV1`` (property-based)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pantau_tracking.domain.case import Applicant
from pantau_tracking.domain.lifecycle import Accepted, open_case
from pantau_tracking.domain.public_record import public_kecamatan, to_public

from .factories import APPLICANT, CATALOGUE, T0, inbound

PBG = CATALOGUE.definition("kota-bandung", "pbg")
DISTRICTS = ["Coblong", "Sumur Bandung", "Bojongloa Kidul", "Cibeunying Kaler", "Ujung Berung",
             "Batununggal", "Andir"]

# Name words as people write them: capitalised, letters only (the shapes redaction recognises
# as name parts are 4+ letters; shorter words alone are not a name and may be a district word).
WORD = st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True)
NAMES = st.lists(WORD, min_size=1, max_size=3).map(" ".join)


def case_with(name: str, kecamatan: str | None) -> str | None:
    """The published kecamatan of a case opened with this applicant name and district text."""
    applicant = {**APPLICANT, "name": name}
    outcome = open_case(inbound("case.submitted", applicant=applicant, kecamatan=kecamatan),
                        PBG, None)
    assert isinstance(outcome, Accepted)
    public = to_public(outcome.case, T0)
    if len(name.split()) >= 2:  # a full name is specific enough to look for anywhere
        assert name.lower() not in public.model_dump_json().lower()
    return public.kecamatan


@settings(max_examples=150, deadline=None)
@given(name=NAMES, district=st.sampled_from(DISTRICTS), where=st.sampled_from(
    ["alone", "before", "after", "lower", "upper"]))
def test_applicant_name_in_kecamatan_is_never_published(name: str, district: str,
                                                        where: str) -> None:
    kecamatan = {"alone": name, "before": f"{name} {district}", "after": f"{district} {name}",
                 "lower": name.lower(), "upper": name.upper()}[where]
    assume(len(kecamatan) <= 40)
    assert case_with(name, kecamatan) is None


@settings(max_examples=100, deadline=None)
@given(name=NAMES, district=st.sampled_from(DISTRICTS))
def test_one_name_word_in_kecamatan_is_never_published(name: str, district: str) -> None:
    for word in name.split():
        assume(len(f"{district} {word}") <= 40)
        published = case_with(name, f"{district} {word}")
        assert published is None or word.lower() not in published.lower()


@settings(max_examples=100, deadline=None)
@given(name=NAMES, district=st.sampled_from(DISTRICTS))
def test_a_plain_district_is_published_unchanged(name: str, district: str) -> None:
    assume(not {w.lower() for w in name.split()} & {w.lower() for w in district.split()})
    assert case_with(name, district) == district


def test_public_kecamatan() -> None:
    siti = Applicant(name="Siti Nurhaliza", nik="3273012345678901",
                     address="Jl. Merdeka No. 5, Coblong, Bandung")
    assert public_kecamatan(None, siti) is None
    assert public_kecamatan("Coblong", None) == "Coblong"
    # The district is part of the address: its words are geography, not personal data.
    assert public_kecamatan("Coblong", siti) == "Coblong"
    assert public_kecamatan("Sumur Bandung", siti) == "Sumur Bandung"
    assert public_kecamatan("Coblong Siti", siti) is None
    assert public_kecamatan("nurhaliza", siti) is None
    assert public_kecamatan("Jl Merdeka", None) is None  # a street, not a district
    assert public_kecamatan("Kampung Baru", Applicant(name="Ani", address="Kampung Baru")) is None


def test_a_note_lengthened_by_redaction_is_cut_not_fatal() -> None:
    """Redaction replaces each "Budi" (4 letters) with a 12-letter mask: the note may not
    outgrow the public limit and fail the event forever."""
    from pantau_tracking.domain.public_record import NOTE_LIMIT, log_leaf

    outcome = open_case(inbound("case.submitted", applicant={**APPLICANT, "name": "Budi Santoso"},
                                note=" ".join(["Budi"] * 99)), PBG, None)
    assert isinstance(outcome, Accepted)
    case = outcome.case
    public = to_public(case, case.updated_at)
    note = public.timeline[0].note
    assert note is not None and len(note) <= NOTE_LIMIT and note.endswith("…")
    assert "Budi" not in note
    assert log_leaf(case, case.history[0]).note == note


def test_every_leaf_is_exactly_its_public_timeline_entry() -> None:
    """``log_leaf`` builds leaves without the pydantic model: they must still be the public
    entries (note redacted and stripped, claimed/received/counted times, late flag)."""
    from datetime import timedelta

    from pantau_tracking.domain.lifecycle import apply_event
    from pantau_tracking.domain.public_record import log_leaf

    later = T0 + timedelta(days=30)
    outcome = open_case(inbound("case.submitted", applicant=APPLICANT,
                                note=f"  Pemohon {APPLICANT['name']} datang  "), PBG, None)
    assert isinstance(outcome, Accepted)
    case = outcome.case
    for event in (inbound("case.stage_started", stage="verifikasi-berkas", received=later,
                          time=T0 + timedelta(days=1), note="hubungi 081234567890"),
                  inbound("case.completed", time=T0 + timedelta(days=2), received=later)):
        assert isinstance(apply_event(case, event), Accepted)
    public = to_public(case, later)
    assert any(e.late_reported for e in public.timeline)
    for entry, shown in zip(case.history, public.timeline, strict=True):
        leaf = log_leaf(case, entry)
        assert (leaf.seq, leaf.status, leaf.stage_code, leaf.note, leaf.late_reported) == (
            shown.seq, shown.status.value, shown.stage_code, shown.note, shown.late_reported)
        assert (leaf.claimed_at, leaf.received_at, leaf.counted_at) == (
            shown.at, shown.received_at, shown.counted_at)
