"""Free-text redaction: personal data typed into public notes never survives (property-based)."""

from __future__ import annotations

import re

import pytest
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
npwps = (st.from_regex(r"[0-9]{2}\.[0-9]{3}\.[0-9]{3}\.[0-9]-[0-9]{3}\.[0-9]{3}", fullmatch=True)
         | st.from_regex(r"[0-9]{15,16}", fullmatch=True))
# A phone as people write it: 08…/62…/+62…, in groups split by a space, dot, dash or slash.
phone_groups = st.tuples(st.sampled_from(["0", "62", "+62", "+62 "]),
                         st.from_regex(r"8[1-9][0-9]{1,2}", fullmatch=True),
                         st.from_regex(r"[0-9]{3,4}", fullmatch=True),
                         st.from_regex(r"[0-9]{3,4}", fullmatch=True),
                         st.sampled_from([" ", ".", "-", "/", ""]))
written_phones = phone_groups.map(lambda g: g[0] + g[4].join(g[1:4]))
at_forms = st.sampled_from(["@", "(at)", " (at) ", "[at]", " [at] ", " at "])
dot_forms = st.sampled_from([".", "(dot)", " [dot] ", " dot "])
obfuscated_emails = st.tuples(st.from_regex(r"[a-z]{3,10}", fullmatch=True), at_forms,
                              st.sampled_from(["gmail", "yahoo", "bandung"]), dot_forms,
                              st.sampled_from(["com", "go", "co"])).map(
    lambda p: p[0] + p[1] + p[2] + (" dot " if p[1] == " at " else p[3]) + p[4])
housing = st.tuples(
    st.sampled_from(["Komp.", "Komplek", "Perum.", "Perumahan", "Gg.", "Gang"]),
    st.from_regex(r"[A-Z][a-z]{3,9} [A-Z][a-z]{3,9}", fullmatch=True),
    st.sampled_from(["", " Blok C-12", " Blok A3 No. 5", " No. 7"]),
    st.sampled_from(["", " RT 03/RW 05", " RT.003 RW.011"])).map(lambda p: " ".join(p[:2])
                                                                  + p[2] + p[3])
blocks = st.from_regex(r"Blok [A-H][0-9]{1,2} No\. [0-9]{1,3}", fullmatch=True)
rt_rw = st.from_regex(r"RT ?0?[0-9]{1,2} ?/ ?RW ?0?[0-9]{1,2}|RT/RW 0[0-9]{2}/0[0-9]{2}",
                      fullmatch=True)
filler = st.sampled_from(["Berkas lengkap.", "Mohon lengkapi", "hubungi", "pemohon", "a.n.",
                          "Catatan:", "ok", "-"])


@settings(max_examples=300)
@given(name=names, nik=niks, phone=phones, email=emails, street=streets,
       words=st.lists(filler, max_size=4), spaced=st.booleans(), glued=st.booleans(),
       npwp=npwps, written_phone=written_phones, hidden_email=obfuscated_emails,
       estate=housing)
def test_personal_data_never_survives(name: str, nik: str, phone: str, email: str, street: str,
                                      words: list[str], spaced: bool, glued: bool, npwp: str,
                                      written_phone: str, hidden_email: str,
                                      estate: str) -> None:
    shown_nik = " ".join([nik[:6], nik[6:12], nik[12:]]) if spaced else nik
    note = " ".join([*words, name, "NIK" + ("" if glued else " ") + shown_nik, "telp", phone,
                     email, street + ", Bandung;", "npwp", npwp, "HP/WA", written_phone,
                     "surel", hidden_email, "alamat", estate + ", Bandung"])
    result = redact_text(note, known=[name, nik, phone, email, street])
    assert result is not None
    for secret in (name, nik, phone, email, street, shown_nik, npwp, written_phone,
                   hidden_email, estate):
        assert secret not in result
    for part in name.split():
        assert part not in result
    assert MASK in result


@given(nik=niks, phone=phones, email=emails, npwp=npwps, written_phone=written_phones,
       hidden_email=obfuscated_emails, estate=housing, block=blocks, rt=rt_rw)
def test_patterns_work_without_knowing_the_values(nik: str, phone: str, email: str, npwp: str,
                                                  written_phone: str, hidden_email: str,
                                                  estate: str, block: str, rt: str) -> None:
    result = redact_text(f"NIK{nik}, HP {phone}, surel {email}, NPWP: {npwp}, WA {written_phone}"
                         f", {hidden_email}; {estate}, Bandung; {block}, {rt}")
    assert result is not None
    for secret in (nik, phone, email, npwp, written_phone, hidden_email, estate, block, rt):
        assert secret not in result


@pytest.mark.parametrize(("text", "secret"), [
    ("npwp 09.254.294.3-407.000", "09.254.294.3-407.000"),  # what reached the public record
    ("NIK3273010101010001", "3273010101010001"),
    ("hubungi 0812/3456/7890", "3456"), ("hubungi +62 (812) 3456 7890", "3456"),
    ("HP081234567890", "081234567890"), ("telp (022) 7654321", "7654321"),
    ("budi(at)gmail.com", "budi"), ("budi [at] gmail [dot] com", "budi"),
    ("budi at gmail dot com", "budi"), ("Komp. Griya Asri Blok C-12", "Griya"),
    ("Perum. Bumi Indah No. 4", "Bumi"), ("Gg. Mawar 3", "Mawar"), ("Blok A3 No. 5", "A3"),
    ("Jl. Dago No. 12", "Dago"), ("RT 03/RW 05", "03"), ("RT/RW 003/005", "003"),
    ("tinggal di RT 7", "7")])
def test_each_new_pattern(text: str, secret: str) -> None:
    result = redact_text(text)
    assert result is not None and secret not in result and MASK in result


@pytest.mark.parametrize("text", [
    "Berkas BDG-DPM-2026-000123 diterima 15-01-2026 (2026-01-15, 15/01/2026), pukul 08.30.",
    "Nomor berkas BDG-PBG-2026-0012345 dan BDG-2026-000124.",
    "Retribusi Rp 1.500.000 (Rp1.500.000,00) dibayar; total Rp 150.000.000.000.000.",
    "Selesai dalam 14 hari kerja, sisa 3 hari; tanggal 08/12/2026.",
    "Sesuai Perda 1/2024 dan PP 16/2021 Pasal 253 ayat (2), UU No. 11 Tahun 2020.",
    "Permenkes 14/2021; Perwal 1402/2023; SK 050/1234/DPMPTSP/2026.",
    "Lokasi di blok timur pasar; meet at home. Then done.",
    "Berkas lengkap.\n\tMenunggu tanda tangan kepala dinas.",
])
def test_public_text_stays_readable(text: str) -> None:
    """False positives: what the public needs to read is never masked."""
    assert redact_text(text) == text


def test_characters_the_contract_refuses_are_dropped() -> None:
    """Notes stored before the contract refused them come out publishable."""
    assert redact_text("Berkas\x01 lengkap\r\nAmbil\ufffe di loket\x85") == (
        "Berkas lengkap\nAmbil di loket")


def test_ordinary_public_text_is_kept() -> None:
    text = "Berkas diverifikasi, menunggu tanda tangan kepala dinas (5 hari kerja)."
    assert redact_text(text) == text
    assert redact_text(None) is None


def test_a_mask_exposing_a_neighbour_is_masked_too() -> None:
    assert redact_text("Hubungi 08127890+62123456") == "Hubungi [disamarkan][disamarkan]"


@given(st.text(alphabet=st.sampled_from("0123456789 +-.@abcJlRTW/()[]"), max_size=80)
       | st.lists(st.sampled_from(["at", "dot", "Blok", "A3", "No.", "Komp.", "Gg.", "RT",
                                   "RW", "08", "12", "/", "-", ".", "+62", "(022)", "\x01",
                                   "budi", "(at)", "[dot]", "\r\n", "NIK"]),
                  max_size=20).map(" ".join)
       | st.text(max_size=80))
@settings(max_examples=400)
def test_redacting_twice_changes_nothing(text: str) -> None:
    """The log commits to tracking's redaction; publishing redacts again: it must be a no-op."""
    once = redact_text(text, ["Budi Santoso", "081234567890"])
    assert redact_text(once, ["Budi Santoso", "081234567890"]) == once


def _known_values_as_before(text: str, known: list[str]) -> str:
    """The known-value step as it was before its patterns were compiled once per set (each
    ``re.sub`` with its pattern text; ties among equal lengths taken in the new fixed order)."""
    for value in sorted({v.strip() for v in known if v and len(v.strip()) >= 3},
                        key=lambda v: (-len(v), v)):
        text = re.sub(re.escape(value), MASK, text, flags=re.IGNORECASE)
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 8 and digits != value:
            text = re.sub(r"[\s.-]?".join(map(re.escape, digits)), MASK, text)
        for part in value.split():
            if len(part) >= 4 and part.isalpha() and part[0].isupper():
                text = re.sub(rf"\b{re.escape(part)}\b", MASK, text, flags=re.IGNORECASE)
    return text


@given(known=st.lists(st.text(alphabet="Ab 3.-/", max_size=12) | st.sampled_from([
           "Siti Nurhaliza", "3273 0101 0101 0001", "0812-3456-7890", "siti@example.id"]),
           max_size=4),
       text=st.text(alphabet="Ab 3.-/0127Siti", max_size=40) | st.sampled_from([
           "Berkas 3273/0101/0101/0001 diterima", "Hubungi Siti di 0812 3456 7890"]))
def test_compiled_known_value_patterns_redact_as_the_per_call_ones_did(
        known: list[str], text: str) -> None:
    from pantau_contracts.redaction import _known_patterns
    compiled = text
    for pattern in _known_patterns(frozenset(v.strip() for v in known
                                             if v and len(v.strip()) >= 3)):
        compiled = pattern.sub(MASK, compiled)
    assert compiled == _known_values_as_before(text, known)


def test_a_known_number_with_other_separators_is_left_to_the_patterns() -> None:
    """Slashes were never a separator of a known number (a leaf in the transparency log
    commits to the note as it was redacted then)."""
    assert redact_text("Berkas 3273/0101/0101/0001 diterima", ["3273 0101 0101 0001"]) == \
        "Berkas 3273/0101/0101/0001 diterima"


def _every_pattern_always(text: str) -> str:
    from pantau_contracts.redaction import _MAX_PASSES, _PATTERNS
    for _ in range(_MAX_PASSES):
        before = text
        for pattern in _PATTERNS:
            text = pattern.sub(MASK, text)
        if text == before:
            break
    return text


@settings(max_examples=300)
@given(text=st.text(alphabet=st.sampled_from(list("atdoATDO @\uff20[]()._-+/ \u00a0\n08123456789"
                                                  "budigmailcomRTWJlnBk") + ["\u0663"]),
                    max_size=60)
       | st.sampled_from(["budi at gmail dot com", "budi(at)gmail.com", "siti＠mail.id",
                          "RT 03 RW 05", "Hubungi 0812 3456 7890", "NIK 3273 0101 0101 0001",
                          "budi [ AT ] gmail [dot] com"]))
def test_the_gates_skip_only_patterns_that_could_not_match(text: str) -> None:
    """Each pattern is tried only when its cheap necessary condition holds: the result is what
    trying every pattern every time gives."""
    assert redact_text(text) == _every_pattern_always(text)
