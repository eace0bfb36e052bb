"""The public status vocabulary and its mappings to Open311 and BLDS.

A department's own stage codes are mapped onto these by the service catalogue (tracking); the
public side only ever sees these words.
"""

from __future__ import annotations

from enum import StrEnum


class PublicStatus(StrEnum):
    """Public status of a case, in Bahasa Indonesia as citizens know them."""

    DITERIMA = "diterima"  # received
    VERIFIKASI = "verifikasi"  # being verified
    DIPROSES = "diproses"  # in process
    DIKEMBALIKAN = "dikembalikan"  # returned to the applicant to complete; the SLA clock pauses
    DITOLAK = "ditolak"  # rejected, with a reason
    SELESAI = "selesai"  # completed / issued (terbit)
    DIBATALKAN = "dibatalkan"  # withdrawn

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def open311(self) -> Open311Status:
        return Open311Status.CLOSED if self.is_final else Open311Status.OPEN

    @property
    def blds(self) -> str:
        """The BLDS (Building & Land Development Specification) permit status word."""
        return BLDS_STATUS[self]


class Open311Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


FINAL_STATUSES = frozenset({PublicStatus.DITOLAK, PublicStatus.SELESAI, PublicStatus.DIBATALKAN})

BLDS_STATUS: dict[PublicStatus, str] = {
    PublicStatus.DITERIMA: "Application Accepted",
    PublicStatus.VERIFIKASI: "In Review",
    PublicStatus.DIPROSES: "In Review",
    PublicStatus.DIKEMBALIKAN: "Application Incomplete",
    PublicStatus.DITOLAK: "Denied",
    PublicStatus.SELESAI: "Issued",
    PublicStatus.DIBATALKAN: "Withdrawn",
}

STATUS_LABELS: dict[PublicStatus, dict[str, str]] = {
    PublicStatus.DITERIMA: {"id": "Diterima", "en": "Received"},
    PublicStatus.VERIFIKASI: {"id": "Verifikasi", "en": "Verification"},
    PublicStatus.DIPROSES: {"id": "Diproses", "en": "In process"},
    PublicStatus.DIKEMBALIKAN: {"id": "Dikembalikan", "en": "Returned to applicant"},
    PublicStatus.DITOLAK: {"id": "Ditolak", "en": "Rejected"},
    PublicStatus.SELESAI: {"id": "Selesai / Terbit", "en": "Completed / Issued"},
    PublicStatus.DIBATALKAN: {"id": "Dibatalkan", "en": "Withdrawn"},
}
