"""Events departments emit about their cases (inbound to Pantau), version 1.

``source`` names the department; ``subject``, when given, must equal ``receipt_number``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from pantau_contracts.payloads.base import (
    ActorRole,
    Code,
    Kecamatan,
    Payload,
    PublicText,
    ReceiptNumber,
    SafeText,
)

Nik = Annotated[str, StringConstraints(pattern=r"^\d{16}$")]


class ApplicantV1(Payload):
    """The applicant. PRIVATE: stored by tracking only, never published, never logged."""

    name: Annotated[SafeText, StringConstraints(min_length=1, max_length=200)]
    nik: Nik | None = Field(None, description="Nomor Induk Kependudukan, 16 digits")
    # At most 20 characters in all (the column's size): an optional "+" and 19 more.
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,19}$")] | None = None
    email: EmailStr | None = None
    address: Annotated[SafeText, StringConstraints(max_length=500)] | None = None


class CaseSubmittedV1(Payload):
    """``case.submitted``: an application was received (berkas diterima) and has a receipt."""

    receipt_number: ReceiptNumber
    service_code: Code = Field(description="The service's code in the jurisdiction's catalogue")
    kecamatan: Kecamatan | None = Field(
        None, description="District (kecamatan) of the application, e.g. Coblong; public, so "
                          "letters, spaces, dots, dashes and apostrophes only")
    channel: Literal["loket", "online", "mpp", "other"] = Field(
        "loket", description="Where it was submitted: counter, online, public service mall")
    note: PublicText | None = None
    actor_role: ActorRole = "petugas-loket"
    applicant: ApplicantV1 | None = Field(None, description="PRIVATE applicant data")


class CaseStageStartedV1(Payload):
    """``case.stage_started``: the case entered one of its service's stages."""

    receipt_number: ReceiptNumber
    stage: Code = Field(description="A stage code from the service's workflow")
    note: PublicText | None = None
    actor_role: ActorRole = "petugas"


class CaseReturnedV1(Payload):
    """``case.returned``: sent back to the applicant to complete (dikembalikan); clock pauses."""

    receipt_number: ReceiptNumber
    reason: PublicText = Field(min_length=1, description="What the applicant must complete")
    actor_role: ActorRole = "verifikator"


class CaseResumedV1(Payload):
    """``case.resumed``: the applicant completed what was asked; the clock runs again."""

    receipt_number: ReceiptNumber
    note: PublicText | None = None
    actor_role: ActorRole = "petugas-loket"


class CaseRejectedV1(Payload):
    """``case.rejected``: refused (ditolak), with the public reason."""

    receipt_number: ReceiptNumber
    reason: PublicText = Field(min_length=1)
    actor_role: ActorRole = "kepala-bidang"


class CaseCompletedV1(Payload):
    """``case.completed``: finished, the document or permit is issued (selesai/terbit)."""

    receipt_number: ReceiptNumber
    note: PublicText | None = None
    actor_role: ActorRole = "kepala-dinas"


class CaseWithdrawnV1(Payload):
    """``case.withdrawn``: the applicant withdrew (dibatalkan)."""

    receipt_number: ReceiptNumber
    reason: PublicText | None = None
    actor_role: ActorRole = "petugas-loket"
