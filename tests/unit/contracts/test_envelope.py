"""Envelope and payload validation: every problem named with its field and what is expected."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pantau_contracts import ContractViolation, event_to_json, make_event, validate_event
from pantau_contracts.registry import dataschema_for


def submitted(**data_overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"receipt_number": "BDG-PBG-2026-000001", "service_code": "pbg",
                               "applicant": {"name": "Siti Aminah", "nik": "3273010101900001"}}
    data.update(data_overrides)
    return {"specversion": "1.0", "id": "e-1", "source": "/kota-bandung/dpmptsp",
            "type": "case.submitted", "time": "2026-03-02T08:15:00+07:00", "data": data}


def problems(raw: object) -> dict[str, str]:
    with pytest.raises(ContractViolation) as info:
        validate_event(raw if isinstance(raw, (bytes, str)) else json.dumps(raw).encode())
    return {p.field: p.expected for p in info.value.problems}


def test_valid_event_is_parsed_with_source_parts_and_payload() -> None:
    event = validate_event(json.dumps(submitted()).encode())
    assert (event.jurisdiction, event.department, event.type, event.version) == (
        "kota-bandung", "dpmptsp", "case.submitted", 1)
    assert event.subject == "BDG-PBG-2026-000001"
    assert event.time == datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
    assert event.dedup_key == ("/kota-bandung/dpmptsp", "e-1")


def test_round_trip_through_the_sdk() -> None:
    event = make_event(type="case.completed", source="/kota-bandung/dpmptsp", sequence=3,
                       data={"receipt_number": "BDG-PBG-2026-000001"})
    parsed = validate_event(event_to_json(event))
    assert parsed.sequence == 3 and parsed.type == "case.completed"


def test_every_missing_envelope_field_is_reported() -> None:
    found = problems({"data": {}})
    assert {"specversion", "id", "source", "type", "time"} <= found.keys()
    assert "kota-bandung" in found["source"]


def test_payload_errors_name_the_field_and_the_expectation() -> None:
    found = problems(submitted(receipt_number="x", channel="fax", surprise=1))
    assert set(found) == {"data.receipt_number", "data.channel", "data.surprise"}
    assert "loket" in found["data.channel"]
    assert "service_code" in found["data.surprise"]


def test_source_must_name_jurisdiction_and_department() -> None:
    raw = submitted()
    raw["source"] = "dpmptsp"
    assert "source" in problems(raw)


def test_unknown_type_and_unknown_schema_version_are_refused() -> None:
    raw = submitted()
    raw["type"] = "case.teleported"
    assert "type" in problems(raw)
    raw = submitted()
    raw["dataschema"] = dataschema_for("case.submitted", 9)
    assert "v1" in problems(raw)["dataschema"]


def test_subject_must_match_receipt_number() -> None:
    raw = submitted()
    raw["subject"] = "OTHER-0001"
    assert "subject" in problems(raw)


@pytest.mark.parametrize("body", [b"", b"[]", b"\xff\xfe", b"{", b'"text"'])
def test_garbage_bodies_are_contract_violations_not_crashes(body: bytes) -> None:
    with pytest.raises(ContractViolation):
        validate_event(body)


def test_tracking_types_are_not_accepted_from_departments() -> None:
    raw = submitted()
    raw["type"] = "case.updated"
    assert "type" in problems(raw)


def test_json_nested_too_deeply_is_a_contract_violation_not_a_crash() -> None:
    for body in (b"[" * 100_000, b'{"a":' * 50_000):
        with pytest.raises(ContractViolation) as caught:
            validate_event(body)
        assert "nested too deeply" in caught.value.problems[0].problem
