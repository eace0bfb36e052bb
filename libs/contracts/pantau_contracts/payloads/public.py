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
    PublishedText,
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
    note: PublishedText | None = None
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


class TimelineEntryV2(Payload):
    """One step of a case's public history, with both clocks (version 2).

    ``at`` is when the department *says* the step happened (its event's ``time``, never earlier
    than the previous step); ``received_at`` is when Pantau's intake received the report. A step
    reported more than the jurisdiction's ``reporting_tolerance`` working days after it claims to
    have happened is ``late_reported``; the service clock then counts it at ``counted_at``
    (``received_at`` minus the tolerance), never at the earlier claimed time.
    """

    seq: int = Field(ge=1, description="Position in the case's history, from 1")
    status: PublicStatus
    stage_code: Code | None = None
    stage_name: Bilingual | None = None
    at: datetime = Field(description="When the department says it happened (UTC)")
    received_at: datetime = Field(description="When Pantau received the report (UTC)")
    counted_at: datetime = Field(description="The time the service clock counts (UTC): `at`, "
                                             "or for a late report the conservative time")
    late_reported: bool = Field(False, description="Reported later than the tolerance allows")
    reporting_delay_days: int = Field(0, ge=0, description="Working days between `at` and "
                                                           "`received_at`")
    note: PublishedText | None = None
    actor_role: ActorRole | None = None
    working_days: float | None = Field(
        None, description="Working days spent in this step; None while it is the current step")


class PublicCaseV2(Payload):
    """The redacted public record of one case (version 2: two clocks per step)."""

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
    reporting_tolerance_days: int = Field(
        1, ge=0, description="Working days a department may take to report a step")
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
    late_reported: bool = Field(False, description="Some step was reported late")
    timeline: tuple[TimelineEntryV2, ...] = ()


def upgrade_public_case(case: PublicCaseV1) -> PublicCaseV2:
    """A version-1 record as version 2: received = claimed, nothing late (v1 knew no better)."""
    data = case.model_dump()
    data["timeline"] = tuple(
        {**entry, "received_at": entry["at"], "counted_at": entry["at"]}
        for entry in data["timeline"])
    return PublicCaseV2.model_validate(data)
