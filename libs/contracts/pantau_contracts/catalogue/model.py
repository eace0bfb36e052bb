"""The catalogue's data model: jurisdictions, departments, services and stages, and the snapshot
(``ServiceDefinition``) a case keeps when it is opened.

The models validate *shape* only (types, ranges, duplicate stage codes, a stage above the
service maximum). The Standar Pelayanan rules a catalogue *file* must also meet (legal basis
present, stage targets adding up, channel maxima, region codes, prefixes) are in ``checks`` and
run when files are loaded, never when a stored snapshot is read back: a case opened under an
older catalogue must always load.

Counting (see ``standard``): ``max_working_days`` is the figure tracking's clock counts. A
service whose legal maximum is in hours declares ``max_duration: {value: 24, unit: hours}`` and
may omit ``max_working_days`` (it is filled with ``working_days_for_hours``). ``channels`` give
per-channel maxima; ``Catalogue.definition(..., channel=...)`` puts the channel's maximum into
the snapshot's service, so tracking needs no knowledge of channels.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator, model_validator

from pantau_contracts.catalogue.standard import (
    NATIONAL_APPEALS,
    Appeals,
    Channel,
    ComplaintChannel,
    Duration,
    LegalBasis,
    SubmissionChannel,
    Text,
    _Model,
    working_days_for_hours,
)
from pantau_contracts.payloads.base import Code
from pantau_contracts.payloads.public import Bilingual
from pantau_contracts.vocabulary import PublicStatus

STAGE_STATUSES = frozenset({PublicStatus.VERIFIKASI, PublicStatus.DIPROSES})
DEFAULT_REPORTING_TOLERANCE = 1
ReceiptPrefix = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,23}$")]
"""The start of the receipt numbers a department issues, e.g. ``BDG-PBG-`` (upper case)."""
REGION_CODE_PATTERN = r"^\d{2}\.\d{2}$"
"""Kemendagri kode wilayah of a kota/kabupaten, e.g. ``32.73`` (Kota Bandung)."""


class PathError(ValueError):
    """Raised inside validators to point at a nested field."""

    def __init__(self, path: tuple[Any, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


class Stage(_Model):
    """One step of a service's workflow, shown to the public as ``public_status``."""

    code: Code
    name: Bilingual
    public_status: PublicStatus = Field(description="verifikasi or diproses")
    max_working_days: int | None = Field(None, ge=1, description="Target for this stage")
    max_hours: int | None = Field(None, ge=1, description="Target, for services counted in hours")

    @field_validator("public_status")
    @classmethod
    def _stage_status(cls, value: PublicStatus) -> PublicStatus:
        if value not in STAGE_STATUSES:
            raise ValueError(f"{value.value!r} is not a stage status; use verifikasi or diproses")
        return value


class Service(_Model):
    """A public service (layanan) as its Standar Pelayanan defines it."""

    code: Code
    department_code: Code
    name: Bilingual
    max_working_days: int = Field(ge=1, description="Legal maximum as tracked, working days")
    max_duration: Duration | None = Field(
        None, description="The legal maximum with its unit when it is not plain working days")
    channels: dict[SubmissionChannel, Channel] = Field(
        default_factory=dict, description="Per-channel maxima (walk-in vs through the desa)")
    fee: int = Field(0, ge=0, description="Rupiah; 0 = gratis")
    fee_note: str | None = None
    product: Bilingual | None = Field(None, description="What the citizen receives")
    validity: Text | None = Field(None, description="How long the product is valid")
    requirements: tuple[Text, ...] = Field(min_length=1)
    stages: tuple[Stage, ...] = Field(min_length=1)
    slack: Text | None = Field(
        None, description="Why the stage targets add up to less than the maximum")
    basis: LegalBasis | None = Field(None, description="Where each figure comes from")

    @model_validator(mode="before")
    @classmethod
    def _days_from_hours(cls, data: Any) -> Any:
        if isinstance(data, dict) and "max_working_days" not in data:
            duration = data.get("max_duration")
            if isinstance(duration, dict) and duration.get("unit") == "hours" and \
                    isinstance(duration.get("value"), int) and duration["value"] >= 1:
                return {**data, "max_working_days": working_days_for_hours(duration["value"])}
        return data

    @model_validator(mode="after")
    def _stages_consistent(self) -> Service:
        seen: set[str] = set()
        for index, stage in enumerate(self.stages):
            if stage.code in seen:
                raise PathError(("stages", index, "code"), f"duplicate stage code {stage.code!r}")
            seen.add(stage.code)
            if stage.max_working_days is not None and \
                    stage.max_working_days > self.max_working_days:
                raise PathError(("stages", index, "max_working_days"),
                                f"{stage.max_working_days} exceeds the service maximum "
                                f"{self.max_working_days}")
        return self

    @property
    def legal_maximum(self) -> Duration:
        """The maximum as the law states it (hours, or working days)."""
        return self.max_duration or Duration(value=self.max_working_days, unit="working_days")

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def stage_index(self, code: str) -> int | None:
        return next((i for i, s in enumerate(self.stages) if s.code == code), None)

    def for_channel(self, channel: str | None) -> Service:
        """This service with the maximum of ``channel`` (itself if the channel is not listed)."""
        found = next((c for name, c in self.channels.items() if name == channel), None)
        if found is None:
            return self
        return self.model_copy(update={"max_working_days": found.max_working_days,
                                       "max_duration": None})


class Department(_Model):
    """An OPD (organisasi perangkat daerah) and the services it owns."""

    code: Code
    name: Bilingual
    receipt_prefixes: tuple[ReceiptPrefix, ...] = Field(
        min_length=1, description="Prefixes of the receipt numbers this department issues")
    complaints: tuple[ComplaintChannel, ...] = Field(
        (), description="The department's own complaint channels (SP4N-LAPOR! applies anyway)")
    services: dict[str, Service]

    def owns_receipt(self, receipt_number: str) -> bool:
        return receipt_number.startswith(self.receipt_prefixes)


class Jurisdiction(_Model):
    """A city (kota) or regency (kabupaten) with its own catalogue file."""

    code: Code
    name: str
    region_code: str | None = Field(None, pattern=REGION_CODE_PATTERN,
                                    description="Kemendagri kode wilayah, e.g. 32.73")
    timezone: str
    version: str = Field(min_length=1)
    reporting_tolerance: int = Field(
        DEFAULT_REPORTING_TOLERANCE, ge=0, le=30,
        description="Working days a department may take to report a step before it is marked "
                    "late_reported (and counted at the conservative time)")
    appeals: Appeals = Field(NATIONAL_APPEALS, description="Keberatan and banding clocks")
    departments: dict[str, Department]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Jakarta, "
                             "Asia/Makassar, Asia/Jayapura)") from exc
        return value

    def service(self, service_code: str) -> Service | None:
        for department in self.departments.values():
            found = department.services.get(service_code)
            if found is not None:
                return found
        return None


class ServiceDefinition(_Model):
    """What a case keeps of the catalogue when it is opened (its snapshot). ``service`` carries
    the maximum of ``channel`` when the service has per-channel maxima."""

    catalogue_version: str
    jurisdiction_code: Code
    jurisdiction_name: str
    timezone: str
    department_code: Code
    department_name: Bilingual
    service: Service
    reporting_tolerance: int = DEFAULT_REPORTING_TOLERANCE
    channel: str | None = None


class Catalogue(_Model):
    """Every jurisdiction's catalogue, keyed by jurisdiction code. Receipt prefixes of different
    departments never overlap and region codes are unique (checked on construction)."""

    jurisdictions: dict[str, Jurisdiction]

    @model_validator(mode="after")
    def _catalogue_consistent(self) -> Catalogue:
        from pantau_contracts.catalogue.checks import (  # noqa: PLC0415 - checks import us
            CatalogueError,
            cross_problems,
        )

        problems = cross_problems(self.jurisdictions.values())
        if problems:
            raise CatalogueError(problems)
        return self

    def receipt_owner(self, receipt_number: str) -> tuple[str, str] | None:
        """(jurisdiction, department) whose prefixes the receipt matches, or None."""
        for jurisdiction in self.jurisdictions.values():
            for department in jurisdiction.departments.values():
                if department.owns_receipt(receipt_number):
                    return jurisdiction.code, department.code
        return None

    @property
    def version(self) -> str:
        """Combined version, e.g. ``kab-bandung@2026.1+kota-bandung@2026.1``."""
        return "+".join(f"{code}@{j.version}" for code, j in sorted(self.jurisdictions.items()))

    def jurisdiction(self, code: str) -> Jurisdiction | None:
        return self.jurisdictions.get(code)

    def department(self, jurisdiction: str, department: str) -> Department | None:
        found = self.jurisdictions.get(jurisdiction)
        return found.departments.get(department) if found else None

    def service(self, jurisdiction: str, service_code: str) -> Service | None:
        found = self.jurisdictions.get(jurisdiction)
        return found.service(service_code) if found else None

    def definition(self, jurisdiction: str, service_code: str,
                   channel: str | None = None) -> ServiceDefinition | None:
        """The snapshot a new case stores, or None if the service is unknown. ``channel`` is the
        submission channel of ``case.submitted``: a listed channel's maximum replaces the
        service's (see ``standard.Channel``)."""
        found = self.jurisdictions.get(jurisdiction)
        service = found.service(service_code) if found else None
        if found is None or service is None:
            return None
        department = found.departments[service.department_code]
        return ServiceDefinition(
            catalogue_version=f"{found.code}@{found.version}", jurisdiction_code=found.code,
            jurisdiction_name=found.name, timezone=found.timezone,
            department_code=department.code, department_name=department.name,
            service=service.for_channel(channel), reporting_tolerance=found.reporting_tolerance,
            channel=channel if channel in service.channels else None)
