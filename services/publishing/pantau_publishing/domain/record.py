"""The public document: a ``PublicCaseV2`` re-validated and re-redacted, plus its change entries.

Publishing never trusts that what arrives is already clean. Every record goes through the
allowlist model again (unknown fields are refused), free text is redacted a second time (an
address-like ``kecamatan`` is dropped), change documents read back for feeds are re-checked the
same way (``clean_change``), and a few *derived* facts that need no private data are added for
aggregations that Elasticsearch could otherwise only compute with scripts (which the target
distribution does not have).

Records come in two versions: ``PublicCaseV2`` (both clocks on every step: the time the
department claims and the time Pantau received the report) and the older ``PublicCaseV1``
(still in queues and in indices written before the upgrade). A version-1 record is upgraded
with the contract's ``upgrade_public_case`` (received = claimed, nothing late) and from then on
everything in publishing is version 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pantau_contracts.payloads.base import Code, PublishedText, ReceiptNumber
from pantau_contracts.payloads.public import (
    Bilingual,
    Name,
    PublicCaseV1,
    PublicCaseV2,
    TimelineEntryV1,
    TimelineEntryV2,
    upgrade_public_case,
)
from pantau_contracts.redaction import MASK, redact_text
from pantau_contracts.vocabulary import FINAL_STATUSES, PublicStatus

DERIVED_FIELDS = ("open", "sla_met", "reporting_delays", "entry_count", "late_entry_count")
"""Index-only facts (see ``case_document``); dropped again when a document is read back."""
V2_CASE_FIELDS = frozenset(PublicCaseV2.model_fields) - frozenset(PublicCaseV1.model_fields)
V2_ENTRY_FIELDS = (frozenset(TimelineEntryV2.model_fields)
                   - frozenset(TimelineEntryV1.model_fields))


def is_version_1(data: Mapping[str, Any]) -> bool:
    """True when a record (a dict) has the shape of ``PublicCaseV1``: no field that only
    version 2 has, neither on the case nor on any timeline entry. (A record with some of them
    is validated as version 2, so a half-upgraded record is refused, not guessed at.)"""
    if any(name in data for name in V2_CASE_FIELDS):
        return False
    timeline = data.get("timeline") or ()
    return not any(isinstance(entry, Mapping) and any(name in entry for name in V2_ENTRY_FIELDS)
                   for entry in timeline)


def as_version_2(record: PublicCaseV1 | PublicCaseV2 | Mapping[str, Any]) -> PublicCaseV2:
    """The record as a validated ``PublicCaseV2``, upgrading a version-1 record or dict.

    Raises ``pydantic.ValidationError`` when it is not a valid public record of either version.
    """
    if isinstance(record, PublicCaseV2):
        return record
    if isinstance(record, PublicCaseV1):
        return upgrade_public_case(record)
    if is_version_1(record):
        return upgrade_public_case(PublicCaseV1.model_validate(dict(record)))
    return PublicCaseV2.model_validate(dict(record))


def clean_case(record: PublicCaseV1 | PublicCaseV2 | Mapping[str, Any]) -> PublicCaseV2:
    """Return the record validated as ``PublicCaseV2`` (a dict or another model validated again,
    a version-1 record upgraded; a ``PublicCaseV2`` was validated when made) with every note
    redacted again and ``kecamatan`` checked by the same patterns: a district name that looks
    like personal data (``Jl. Merdeka``, ``Gang Mawar``) is published as ``None`` rather than
    half-masked. ``late_reported`` is true when any step was reported
    late, whatever the record's own flag said (the page, the facet and the API agree).

    Raises ``pydantic.ValidationError`` when the record is not a valid public record.
    """
    if type(record) is PublicCaseV2:
        # Validated when it was made (frozen): dumping and validating it again, as the indexer
        # did for every message right after validate_event, would check nothing new.
        case = record
    else:
        data: dict[str, Any] = (record.model_dump(mode="json") if isinstance(record, BaseModel)
                                else dict(record))
        for name in DERIVED_FIELDS:  # documents read back from the index carry derived fields
            data.pop(name, None)
        case = as_version_2(data)
    timeline = tuple(
        entry.model_copy(update={"note": redact_text(entry.note)}) if entry.note else entry
        for entry in case.timeline)
    return case.model_copy(update={"timeline": timeline,
                                   "kecamatan": clean_kecamatan(case.kecamatan),
                                   "late_reported": reported_late(case)})


def clean_or_none(document: Mapping[str, Any]) -> PublicCaseV2 | None:
    """``clean_case`` of a document read back, or ``None`` when it is not a valid public record
    (never shown: one bad document must not break a page, a list or a feed)."""
    try:
        return clean_case(document)
    except ValidationError:
        return None


def clean_kecamatan(kecamatan: str | None) -> str | None:
    """The district name, or ``None`` when redaction would mask any part of it."""
    if kecamatan is None:
        return None
    redacted = redact_text(kecamatan) or ""
    return None if MASK in redacted else kecamatan


def is_open(case: PublicCaseV2) -> bool:
    return case.status not in FINAL_STATUSES


def sla_met(case: PublicCaseV2) -> bool | None:
    """For a completed case: was it finished within the legal maximum? ``None`` otherwise."""
    if case.status != PublicStatus.SELESAI:
        return None
    return not case.overdue and case.working_days_elapsed <= case.max_working_days


def reported_late(case: PublicCaseV2) -> bool:
    """Was any step reported later than the tolerance allows? (The record's own flag, or any
    entry's — they agree in what tracking sends; either one is enough to say so.)"""
    return case.late_reported or any(entry.late_reported for entry in case.timeline)


def case_document(case: PublicCaseV2) -> dict[str, Any]:
    """The index document: the public record as JSON plus derived, non-personal facts.

    ``reporting_delays`` is every step's reporting delay in working days (a flat number array:
    a ``percentiles`` aggregation over it is the median over *steps*, not cases);
    ``entry_count`` and ``late_entry_count`` are summed for the share of steps reported within
    the tolerance. Scripts would compute these at query time; the target distribution has none.
    """
    document: dict[str, Any] = case.model_dump(mode="json")
    document["open"] = is_open(case)
    document["sla_met"] = sla_met(case)
    document["reporting_delays"] = [entry.reporting_delay_days for entry in case.timeline]
    document["entry_count"] = len(case.timeline)
    document["late_entry_count"] = sum(1 for entry in case.timeline if entry.late_reported)
    return document


def change_id(receipt_number: str, seq: int) -> str:
    return f"{receipt_number}-{seq:05d}"


def change_documents(case: PublicCaseV2, after: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """One ``(id, document)`` per timeline entry: the public status changes that feeds show
    (only the entries whose ``seq`` is above ``after``)."""
    return [(change_id(case.receipt_number, entry.seq), _change(case, entry))
            for entry in case.timeline if entry.seq > after]


class ChangeDocument(BaseModel):
    """The shape of one ``pantau-changes`` document (what ``change_documents`` writes and the
    feeds read): public case facts plus one timeline entry with both clocks. Unknown fields are
    refused (the contracts' payload rules; ``BaseModel`` directly so mypy sees the class without
    them). Documents written before the two clocks have no ``received_at``: read back, they get
    the claimed time, as ``upgrade_public_case`` does for a whole record."""

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
    received_at: datetime | None = None
    counted_at: datetime | None = None
    late_reported: bool = False
    reporting_delay_days: int = Field(0, ge=0)
    reporting_tolerance_days: int | None = Field(None, ge=0)
    note: PublishedText | None = None


def clean_change(document: Mapping[str, Any]) -> dict[str, Any]:
    """A change document read back from the index, re-validated through ``ChangeDocument`` and
    its note redacted again — the same re-check rule as ``clean_case`` for cases. Times come
    back as written (``+00:00``, not pydantic's ``Z``); a missing ``received_at`` /
    ``counted_at`` (a document from before the two clocks) is the claimed time.

    Raises ``pydantic.ValidationError`` when the document is not a valid change.
    """
    change = ChangeDocument.model_validate(dict(document))
    data: dict[str, Any] = change.model_dump(mode="json")
    data["at"] = change.at.isoformat()
    data["received_at"] = (change.received_at or change.at).isoformat()
    data["counted_at"] = (change.counted_at or change.at).isoformat()
    data["note"] = redact_text(change.note)
    return data


def _change(case: PublicCaseV2, entry: TimelineEntryV2) -> dict[str, Any]:
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
        "received_at": entry.received_at.isoformat(),
        "counted_at": entry.counted_at.isoformat(),
        "late_reported": entry.late_reported,
        "reporting_delay_days": entry.reporting_delay_days,
        "reporting_tolerance_days": case.reporting_tolerance_days,
        "note": redact_text(entry.note),
    }
