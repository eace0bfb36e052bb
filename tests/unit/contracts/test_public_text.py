"""Public text at the contract: controls and non-characters refused in every free-text field
(naming the field), values published verbatim refused when they look like personal data, and
envelope attributes that could not be stored refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from pantau_contracts import ContractViolation, validate_event
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.registry import DEPARTMENT_EVENT_TYPES, LATEST_VERSION, payload_model
from pantau_contracts.schemas import render
from pantau_contracts.text import UNSAFE, looks_personal
from tests.unit.publishing.factories import public_case

RECEIPT = "BDG-PBG-2026-000001"
MINIMAL: dict[str, dict[str, Any]] = {
    "case.submitted": {"service_code": "pbg"},
    "case.stage_started": {"stage": "verifikasi-berkas"},
    "case.returned": {"reason": "Lengkapi gambar"},
    "case.resumed": {},
    "case.rejected": {"reason": "Tidak sesuai tata ruang"},
    "case.completed": {},
    "case.withdrawn": {},
}
# One of each kind the contract refuses: C0, CR, DEL, C1, non-characters in and beyond the BMP.
UNSAFE_SAMPLES = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x85",
                  "\x9f", "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"]


def event(event_type: str, **data: Any) -> dict[str, Any]:
    payload = {"receipt_number": RECEIPT, **MINIMAL[event_type], **data}
    return {"specversion": "1.0", "id": "e-1", "source": "/kota-bandung/dpmptsp",
            "type": event_type, "time": "2026-03-02T08:15:00+07:00", "data": payload}


def refused(raw: dict[str, Any] | bytes) -> dict[str, str]:
    """{field: problem} of the ContractViolation ``raw`` raises (it must raise one)."""
    body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
    with pytest.raises(ContractViolation) as info:
        validate_event(body)
    return {p.field: p.problem for p in info.value.problems}


def text_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every field of ``model`` (and nested models) that can hold a string."""
    paths = []
    for name, info in model.model_fields.items():
        args = getattr(info.annotation, "__args__", None) or (info.annotation,)
        nested = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            paths += text_fields(nested[0], f"{prefix}{name}.")
        elif str in args or info.annotation is str or "str" in str(info.annotation):
            paths.append(prefix + name)
    return paths


FREE_TEXT = [(t, path) for t in sorted(DEPARTMENT_EVENT_TYPES)
             for path in text_fields(payload_model(t, LATEST_VERSION[t]))
             if path != "receipt_number"]


def with_value(event_type: str, path: str, value: str) -> dict[str, Any]:
    raw = event(event_type)
    data = raw["data"]
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {"name": "Siti Aminah"})
    data[last] = value
    return raw


@pytest.mark.parametrize(("event_type", "path"), FREE_TEXT)
def test_every_text_field_of_every_department_event_refuses_a_control(event_type: str,
                                                                       path: str) -> None:
    """Completeness: no string field a department fills lets a control character through
    (free text by the new rule; the others by their patterns)."""
    found = refused(with_value(event_type, path, "Berkas\x01lengkap"))
    assert f"data.{path}" in found


@pytest.mark.parametrize("character", UNSAFE_SAMPLES)
@pytest.mark.parametrize(("event_type", "field"), [
    ("case.submitted", "note"), ("case.stage_started", "note"), ("case.returned", "reason"),
    ("case.resumed", "note"), ("case.rejected", "reason"), ("case.completed", "note"),
    ("case.withdrawn", "reason")])
def test_public_text_refuses_controls_and_non_characters(event_type: str, field: str,
                                                         character: str) -> None:
    found = refused(event(event_type, **{field: f"Berkas {character}lengkap"}))
    assert list(found) == [f"data.{field}"]
    assert f"U+{ord(character):04X}" in found[f"data.{field}"]


def test_a_lone_surrogate_is_refused_naming_the_field() -> None:
    body = json.dumps(event("case.completed", note="PLACEHOLDER")).replace(
        "PLACEHOLDER", "Terbit \\ud800").encode()
    assert "data.note" in refused(body)


def test_tabs_and_line_breaks_are_fine() -> None:
    raw = event("case.completed", note="Izin terbit.\n\tAmbil di loket 3.")
    assert validate_event(json.dumps(raw).encode()).payload.note == (  # type: ignore[attr-defined]
        "Izin terbit.\n\tAmbil di loket 3.")


def test_windows_line_breaks_are_accepted_and_stored_as_line_feeds() -> None:
    """Most department systems run on Windows: a multi-line note from one is not a 422."""
    raw = event("case.returned", reason="Gambar kurang.\r\nLengkapi di loket 3.")
    payload = validate_event(json.dumps(raw).encode()).payload
    assert payload.reason == "Gambar kurang.\nLengkapi di loket 3."  # type: ignore[attr-defined]
    assert "data.reason" in refused(event("case.returned", reason="Gambar\rkurang"))


# Unicode White_Space: what the contract trims from both ends before looking (a trailing "\r" or
# vertical tab is dropped, not refused — it is gone either way).
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_accepted_exactly_when_no_unsafe_character(text: str) -> None:
    raw = event("case.completed", note=text)
    body = json.dumps(raw).encode()
    if UNSAFE.search(text.replace("\r\n", "\n").strip(WHITE_SPACE)):
        assert "data.note" in refused(body)
    else:
        note = validate_event(body).payload.note  # type: ignore[attr-defined]
        assert note is None or not UNSAFE.search(note)


def test_the_schema_tells_senders_too() -> None:
    schema = json.loads(render()["case.completed.v1.json"])
    pattern = schema["properties"]["note"]["anyOf"][0]["pattern"]
    assert "\\u0000-\\u0008" in pattern and "\\uFFFE" in pattern


def test_the_public_record_still_takes_what_was_stored_before() -> None:
    """Text stored before the rule must still flow to publishing (which cleans it)."""
    case = PublicCaseV2.model_validate(public_case(note="Berkas\x01 lengkap"))
    assert case.timeline[-1].note == "Berkas\x01 lengkap"


@pytest.mark.parametrize("receipt", [
    "3273010101010001",  # a NIK
    "092542943407000",  # an NPWP
    "NPWP-09-254-294-3-407-000",
    "HP-081234567890", "081234567890", "62-812-3456-7890", "BDG-0812-3456-7890",
    "NIK-327301-010101-0001"])
def test_a_receipt_number_that_looks_personal_is_refused(receipt: str) -> None:
    assert "data.receipt_number" in refused(event("case.completed", receipt_number=receipt))


@pytest.mark.parametrize("receipt", [
    "BDG-DPM-2026-000123", "BDG-PBG-2026-0012345", "BDG-20261201-00000123", "PBG2026000001",
    "KTP-2026-08-123456", "SBY-IMB-2025-999999"])
def test_ordinary_receipt_numbers_are_kept(receipt: str) -> None:
    assert looks_personal(receipt) is None
    validate_event(json.dumps(event("case.completed", receipt_number=receipt)).encode())


@pytest.mark.parametrize("role", ["hp-081234567890", "nik3273010101010001",
                                  "budi-at-gmail-dot-com", "budi_at_yahoo_dot_co_id",
                                  "wa-0812-3456-7890"])
def test_an_actor_role_that_looks_personal_is_refused(role: str) -> None:
    assert "data.actor_role" in refused(event("case.completed", actor_role=role))


@pytest.mark.parametrize("role", ["petugas-loket", "verifikator", "kepala-dinas",
                                  "kepala-bidang-2", "tim-teknis-2026"])
def test_ordinary_roles_are_kept(role: str) -> None:
    validate_event(json.dumps(event("case.completed", actor_role=role)).encode())


@pytest.mark.parametrize(("attribute", "value"), [
    ("id", "e-\x00-1"), ("id", "x" * 201), ("source", "/kota-bandung/dpmptsp/" + "s" * 200),
    ("source", "/kota-bandung/dpmptsp/a\x01"), ("sequence", 2**63), ("sequence", str(2**64)),
    ("time", "0001-01-01T00:00:00+01:00"), ("time", "9999-12-31T23:59:59-01:00"),
    ("time", "9999-12-31T23:59:59Z"), ("time", "1969-12-31T23:59:59Z"),
    ("time", "2200-01-01T00:00:00Z"),
    ("subject", "BDG\x7f")])
def test_envelope_attributes_that_could_not_be_stored_are_refused(attribute: str,
                                                                  value: object) -> None:
    raw = event("case.completed")
    raw[attribute] = value
    assert attribute in refused(raw)


def test_the_longest_identity_is_accepted() -> None:
    raw = event("case.completed", actor_role="a" * 41)
    raw.update(id="x" * 200, source="/kota-bandung/dpmptsp/" + "s" * 178, sequence=2**63 - 1)
    assert validate_event(json.dumps(raw).encode()).sequence == 2**63 - 1


def test_an_applicant_phone_fits_its_column() -> None:
    applicant = {"name": "Siti Aminah", "phone": "+" + "1" * 20}
    assert "data.applicant.phone" in refused(event("case.submitted", applicant=applicant))
    applicant["phone"] = "+" + "1" * 19
    validate_event(json.dumps(event("case.submitted", applicant=applicant)).encode())


def test_the_sender_is_told_in_words() -> None:
    with pytest.raises(ContractViolation) as info:
        validate_event(json.dumps(event("case.returned", reason="Lengkapi\x01")).encode())
    (problem,) = info.value.problems
    assert problem.problem.startswith("contains a control character")
    assert "tab and line feed" in problem.expected and "\\u0000" not in problem.expected
