"""Free-text redaction: personal data typed into public notes never survives (property-based)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_contracts.redaction import MASK, redact_text

names = st.sampled_from(["Siti Aminah", "Budi Santoso", "Dewi Lestari", "Asep Sunandar",
                         "Rina Kartika", "Ujang Suherman"])
niks = st.from_regex(r"32[0-9]{14}", fullmatch=True)
phones = st.from_regex(r"(\+62|0)8[1-9][0-9]{7,9}", fullmatch=True)
emails = st.from_regex(r"[a-z]{3,10}\.[a-z]{2,8}@(gmail|yahoo|bandung)\.(com|go\.id)",
                       fullmatch=True)
streets = st.from_regex(r"Jl\. [A-Z][a-z]{3,10} No\. [0-9]{1,3}", fullmatch=True)
filler = st.sampled_from(["Berkas lengkap.", "Mohon lengkapi", "hubungi", "pemohon", "a.n.",
                          "Catatan:", "ok", "-"])


@settings(max_examples=300)
@given(name=names, nik=niks, phone=phones, email=emails, street=streets,
       words=st.lists(filler, max_size=4), spaced=st.booleans())
def test_personal_data_never_survives(name: str, nik: str, phone: str, email: str, street: str,
                                      words: list[str], spaced: bool) -> None:
    shown_nik = " ".join([nik[:6], nik[6:12], nik[12:]]) if spaced else nik
    note = " ".join([*words, name, "NIK", shown_nik, "telp", phone, email, street + ", Bandung"])
    result = redact_text(note, known=[name, nik, phone, email, street])
    assert result is not None
    for secret in (name, nik, phone, email, street, shown_nik):
        assert secret not in result
    for part in name.split():
        assert part not in result
    assert MASK in result


@given(nik=niks, phone=phones, email=emails)
def test_patterns_work_without_knowing_the_values(nik: str, phone: str, email: str) -> None:
    result = redact_text(f"NIK {nik}, HP {phone}, surel {email}")
    assert result is not None
    assert nik not in result and phone not in result and email not in result


def test_ordinary_public_text_is_kept() -> None:
    text = "Berkas diverifikasi, menunggu tanda tangan kepala dinas (5 hari kerja)."
    assert redact_text(text) == text
    assert redact_text(None) is None


def test_a_mask_exposing_a_neighbour_is_masked_too() -> None:
    assert redact_text("Hubungi 08127890+62123456") == "Hubungi [disamarkan][disamarkan]"


@given(st.text(alphabet=st.sampled_from("0123456789 +-.@abcJlRTW/()"), max_size=80)
       | st.text(max_size=80))
@settings(max_examples=400)
def test_redacting_twice_changes_nothing(text: str) -> None:
    """The log commits to tracking's redaction; publishing redacts again: it must be a no-op."""
    once = redact_text(text, ["Budi Santoso", "081234567890"])
    assert redact_text(once, ["Budi Santoso", "081234567890"]) == once
