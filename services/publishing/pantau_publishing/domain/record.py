"""The public document: a ``PublicCaseV1`` re-validated and re-redacted, plus its change entries.

Publishing never trusts that what arrives is already clean. Every record goes through the
allowlist model again (unknown fields are refused), free text is redacted a second time (an
address-like ``kecamatan`` is dropped), change documents read back for feeds are re-checked the
same way (``clean_change``), and a few *derived* facts that need no private data are added for
aggregations that Elasticsearch could otherwise only compute with scripts (which the target
distribution does not have).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pantau_contracts.payloads.base import Code, PublicText, ReceiptNumber
from pantau_contracts.payloads.public import Bilingual, Name, PublicCaseV1, TimelineEntryV1
from pantau_contracts.redaction import MASK, redact_text
from pantau_contracts.vocabulary import FINAL_STATUSES, PublicStatus

DERIVED_FIELDS = ("open", "sla_met")


def clean_case(record: PublicCaseV1 | dict[str, Any]) -> PublicCaseV1:
    """Return the record re-validated through ``PublicCaseV1`` with every note redacted again
    and ``kecamatan`` checked by the same patterns: a district name that looks like personal
    data (``Jl. Merdeka``, ``Gang Mawar``) is published as ``None`` rather than half-masked.

    Raises ``pydantic.ValidationError`` when the record is not a valid public record.
    """
    data = record.model_dump(mode="json") if isinstance(record, PublicCaseV1) else dict(record)
    for name in DERIVED_FIELDS:  # documents read back from the index carry derived fields
        data.pop(name, None)
    case = PublicCaseV1.model_validate(data)
    timeline = tuple(
        entry.model_copy(update={"note": redact_text(entry.note)}) if entry.note else entry
        for entry in case.timeline)
    return case.model_copy(update={"timeline": timeline,
                                   "kecamatan": clean_kecamatan(case.kecamatan)})


def clean_kecamatan(kecamatan: str | None) -> str | None:
    """The district name, or ``None`` when redaction would mask any part of it."""
    if kecamatan is None:
        return None
    redacted = redact_text(kecamatan) or ""
    return None if MASK in redacted else kecamatan


def is_open(case: PublicCaseV1) -> bool:
    return case.status not in FINAL_STATUSES


def sla_met(case: PublicCaseV1) -> bool | None:
    """For a completed case: was it finished within the legal maximum? ``None`` otherwise."""
    if case.status != PublicStatus.SELESAI:
        return None
    return not case.overdue and case.working_days_elapsed <= case.max_working_days


def case_document(case: PublicCaseV1) -> dict[str, Any]:
    """The index document: the public record as JSON plus derived, non-personal facts."""
    document: dict[str, Any] = case.model_dump(mode="json")
    document["open"] = is_open(case)
    document["sla_met"] = sla_met(case)
    return document


def change_id(receipt_number: str, seq: int) -> str:
    return f"{receipt_number}-{seq:05d}"


def change_documents(case: PublicCaseV1) -> list[tuple[str, dict[str, Any]]]:
    """One ``(id, document)`` per timeline entry: the public status changes that feeds show."""
    return [(change_id(case.receipt_number, entry.seq), _change(case, entry))
            for entry in case.timeline]


class ChangeDocument(BaseModel):
    """The shape of one ``pantau-changes`` document (what ``change_documents`` writes and the
    feeds read): public case facts plus one timeline entry. Unknown fields are refused (the
    contracts' payload rules; ``BaseModel`` directly so mypy sees the class without them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    receipt_number: ReceiptNumber
    seq: int = Field(ge=1)
    jurisdiction_code: Code
    jurisdiction_name: Name
    timezone: str
    department_code: Code
    department_name: Bilingual
    service_code: Code
    service_name: Bilingual
    status: PublicStatus
    stage_name: Bilingual | None = None
    at: datetime
    note: PublicText | None = None


def clean_change(document: dict[str, Any]) -> dict[str, Any]:
    """A change document read back from the index, re-validated through ``ChangeDocument`` and
    its note redacted again — the same re-check rule as ``clean_case`` for cases.

    Raises ``pydantic.ValidationError`` when the document is not a valid change.
    """
    change = ChangeDocument.model_validate(document)
    data: dict[str, Any] = change.model_dump(mode="json")
    data["at"] = change.at.isoformat()  # as written (``+00:00``), not pydantic's ``Z``
    data["note"] = redact_text(change.note)
    return data


def _change(case: PublicCaseV1, entry: TimelineEntryV1) -> dict[str, Any]:
    return {
        "receipt_number": case.receipt_number,
        "seq": entry.seq,
        "jurisdiction_code": case.jurisdiction_code,
        "jurisdiction_name": case.jurisdiction_name,
        "timezone": case.timezone,
        "department_code": case.department_code,
        "department_name": case.department_name.model_dump(),
        "service_code": case.service_code,
        "service_name": case.service_name.model_dump(),
        "status": entry.status.value,
        "stage_name": entry.stage_name.model_dump() if entry.stage_name else None,
        "at": entry.at.isoformat(),
        "note": redact_text(entry.note),
    }
