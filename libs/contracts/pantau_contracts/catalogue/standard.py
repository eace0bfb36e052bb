"""The parts of a Standar Pelayanan beyond the workflow: where each figure comes from, how a
maximum is counted, per-channel maxima, complaint channels and the appeal (keberatan) clock.

Contract:

* ``Basis`` names where a figure comes from. ``source`` is ``local`` (the jurisdiction's own
  Standar Pelayanan / Perda / Perbup / Perwal, cited), ``national`` (a national rule, e.g.
  Permendagri 19/2018 Pasal 3, PP 16/2021) or ``statutory-default`` (no rule sets a deadline, so
  UU 30/2014 Pasal 53 as amended applies: 5 working days). The portal labels anything not
  ``local`` as "standar nasional" / "national standard". A figure is never invented: where no
  local standard is known the national one is used and marked so.
* ``Duration`` is a legal maximum with its unit. Tracking's clock counts whole working days, so
  a maximum in ``hours`` is tracked as ``working_days_for_hours(h)`` = ceil(h / 24) working days
  (24 hours: due the next working day after day 0); the hours figure itself is what the public
  sees as the legal maximum.
* ``Channel`` is a per-channel maximum keyed by the submission channel a department reports in
  ``case.submitted`` (``loket``, ``online``, ``mpp``, ``other``). A listed channel's maximum
  applies to cases submitted through it; any other channel gets the service's own maximum, which
  must be the strictest (so an unreported route never loosens the clock).
* ``ComplaintChannel``: a department's own complaint unit; SP4N-LAPOR! (``LAPOR``) is national
  and applies everywhere.
* ``Appeals``: keberatan and banding under UU 30/2014 Pasal 75-78, data the portal can show on
  a rejected (ditolak) case.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pantau_contracts.payloads.public import Bilingual

Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)]
Source = Literal["local", "national", "statutory-default"]
Unit = Literal["working_days", "hours"]
SubmissionChannel = Literal["loket", "online", "mpp", "other"]
"""The ``channel`` values of ``case.submitted`` (``payloads.department.CaseSubmittedV1``)."""

HOURS_PER_TRACKED_DAY = 24
STATUTORY_DEFAULT_DAYS = 5
STATUTORY_DEFAULT_CITATION = ("UU 30/2014 Pasal 53 jo. UU 6/2023 (Cipta Kerja): batas waktu "
                              "bawaan 5 hari kerja bila peraturan tidak menetapkan")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Basis(_Model):
    """Where one figure (maximum, fee, requirements) comes from."""

    source: Source
    citation: Text = Field(description="e.g. 'Permendagri 19/2018 Pasal 3'")
    url: Url | None = None
    note: Text | None = Field(None, description="e.g. 'belum diverifikasi' and what to check")

    @property
    def is_national(self) -> bool:
        """Shown as "standar nasional": not the jurisdiction's own figure."""
        return self.source != "local"


class LegalBasis(_Model):
    """The basis of each figure of a service; ``max`` covers the maximum and its channels."""

    max: Basis
    fee: Basis | None = None
    requirements: Basis | None = None


class Duration(_Model):
    """A legal maximum and its unit (working days, or hours for adminduk issuance)."""

    value: int = Field(ge=1)
    unit: Unit


def working_days_for_hours(hours: int) -> int:
    """The working days tracking counts for a maximum given in hours (ceil(h / 24), >= 1)."""
    return max(1, math.ceil(hours / HOURS_PER_TRACKED_DAY))


class Channel(_Model):
    """A submission channel with its own legal maximum (e.g. walk-in vs through the desa)."""

    name: Bilingual
    max_working_days: int = Field(ge=1)


class ComplaintChannel(_Model):
    """Where a citizen complains about a service (pengaduan)."""

    name: Text
    url: Url | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{3,20}$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")] | None = None
    note: Text | None = None


LAPOR = ComplaintChannel(
    name="SP4N-LAPOR!", url="https://www.lapor.go.id",
    note="Sistem Pengelolaan Pengaduan Pelayanan Publik Nasional (Perpres 76/2013; "
         "Permenpan RB 62/2018)")
"""The national complaint channel, valid for every service of every jurisdiction."""


class AppealRule(_Model):
    """One step of the administrative appeal: filing window, agency deadline, silence rule."""

    file_within_working_days: int = Field(ge=1)
    decide_within_working_days: int = Field(ge=1)
    if_undecided: Literal["deemed-granted"] = "deemed-granted"
    implement_within_working_days: int = Field(ge=1)
    basis: Basis


class Appeals(_Model):
    """Keberatan (to the agency) then banding (to its superior), UU 30/2014 Pasal 75-78."""

    keberatan: AppealRule
    banding: AppealRule


NATIONAL_APPEALS = Appeals(
    keberatan=AppealRule(
        file_within_working_days=21, decide_within_working_days=10,
        implement_within_working_days=5,
        basis=Basis(source="national", citation="UU 30/2014 Pasal 77",
                    url="https://putusan3.mahkamahagung.go.id/rumusan_kamar/index/kategori/"
                        "upaya-hukum-administrasi/tahun/2021.html",
                    note="21 hari kerja: rumusan kamar MA 2021; 10/5 hari kerja: teks pasal "
                         "belum dibaca langsung")),
    banding=AppealRule(
        file_within_working_days=10, decide_within_working_days=10,
        implement_within_working_days=5,
        basis=Basis(source="national", citation="UU 30/2014 Pasal 78",
                    url="https://fliphtml5.com/rrrat/jaek/"
                        "Buku-Anotasi-UU-Administrasi-Pemerintahan-9-Mei-20174/283",
                    note="Buku Anotasi UU Administrasi Pemerintahan, h. 283")))
"""The national appeal clock; a jurisdiction file may restate it but not loosen it."""
