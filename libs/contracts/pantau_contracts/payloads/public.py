"""The public record of a case — the ONLY shape that leaves tracking toward the public side.

This is the allowlist: a field that is not declared here cannot reach the index, a feed or an API
answer, because every model forbids unknown fields. There is deliberately no field for the
applicant's name, NIK, phone, e-mail or street address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from pantau_contracts.payloads.base import (
    ActorRole,
    Code,
    Kecamatan,
    Payload,
    PublicText,
    ReceiptNumber,
)
from pantau_contracts.vocabulary import PublicStatus

Name = Annotated[str, StringConstraints(max_length=200)]


class Bilingual(Payload):
    """A name in Bahasa Indonesia (``id``) and English (``en``)."""

    id: Name
    en: Name


class TimelineEntryV1(Payload):
    """One step of a case's public history."""

    seq: int = Field(ge=1, description="Position in the case's history, from 1")
    status: PublicStatus
    stage_code: Code | None = None
    stage_name: Bilingual | None = None
    at: datetime = Field(description="When it happened (UTC)")
    note: PublicText | None = None
    actor_role: ActorRole | None = None
    working_days: float | None = Field(
        None, description="Working days spent in this step; None while it is the current step")


class PublicCaseV1(Payload):
    """The redacted public record of one case."""

    receipt_number: ReceiptNumber
    revision: int = Field(ge=1, description="Grows with every change; used as the index version")
    jurisdiction_code: Code
    jurisdiction_name: Name
    timezone: str = Field(description="IANA zone of the jurisdiction, e.g. Asia/Jakarta")
    department_code: Code
    department_name: Bilingual
    service_code: Code
    service_name: Bilingual
    catalogue_version: str
    max_working_days: int = Field(ge=1, description="Legal maximum (jangka waktu), working days")
    kecamatan: Kecamatan | None = None
    channel: str | None = None
    status: PublicStatus
    stage_code: Code | None = None
    stage_name: Bilingual | None = None
    submitted_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    due_date: date | None = Field(None, description="Last working day within the legal maximum")
    working_days_elapsed: float = Field(ge=0)
    working_days_remaining: float | None = None
    overdue: bool = False
    paused: bool = Field(False, description="True while returned to the applicant (dikembalikan)")
    withdrawn: bool = Field(False, description="Tombstone: the case was withdrawn")
    timeline: tuple[TimelineEntryV1, ...] = ()
