"""The service catalogue (Standar Pelayanan) as data: which services a jurisdiction offers, who
owns them, their legal maximum duration (jangka waktu), fee, requirements and ordered stages.

One YAML file per jurisdiction in ``<repo>/catalogue/`` (or ``$PANTAU_CATALOGUE_DIR``)::

    code: kota-bandung            # must equal the file name without .yaml
    name: Kota Bandung
    timezone: Asia/Jakarta        # IANA zone; times are shown in it, working days counted in it
    version: "2026.1"             # bump on every change; cases record it when they are opened
    reporting_tolerance: 1        # working days a department may take to report a step (default 1)
    departments:
      dpmptsp:
        name: {id: ..., en: ...}
        receipt_prefixes: [BDG-PBG-, BDG-SLF-]   # the receipt numbers this department issues
        services:
          pbg:
            name: {id: ..., en: ...}
            max_working_days: 28
            fee: 0                # rupiah; 0 = gratis
            fee_note: ...
            requirements: [...]
            stages:               # in the order a case moves through them
              - {code: verifikasi, name: {...}, public_status: verifikasi, max_working_days: 3}

Loading validates everything and raises ``CatalogueError`` naming the file, the path to the bad
field and what is wrong. Service codes are unique within a jurisdiction (a receipt's service is
found by ``Catalogue.service(jurisdiction, service_code)``).

A department OWNS its receipt numbers: ``receipt_prefixes`` lists the prefixes of the receipts
it issues, and no two departments — in any jurisdiction — may declare prefixes that could match
the same receipt (one a prefix of the other). Loading refuses such a catalogue, naming both
departments; intake refuses an event whose receipt is outside its sender's prefixes, so no
department can open (squat) or touch another's case.

Cases never read the live catalogue after they are opened: tracking stores
``Catalogue.definition(...)`` — a ``ServiceDefinition`` snapshot carrying the catalogue version —
with the case, so editing the catalogue never rewrites history.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from pantau_contracts.payloads.base import Code
from pantau_contracts.payloads.public import Bilingual
from pantau_contracts.vocabulary import PublicStatus

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIRECTORY = REPO_ROOT / "catalogue"
ENV_DIRECTORY = "PANTAU_CATALOGUE_DIR"
STAGE_STATUSES = frozenset({PublicStatus.VERIFIKASI, PublicStatus.DIPROSES})

Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
ReceiptPrefix = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,23}$")]
"""The start of the receipt numbers a department issues, e.g. ``BDG-PBG-`` (upper case)."""
DEFAULT_REPORTING_TOLERANCE = 1


class CatalogueError(ValueError):
    """A catalogue file is wrong. ``problems`` are (file, field path, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{f}: {p}: {m}" for f, p, m in problems))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Stage(_Model):
    """One step of a service's workflow, shown to the public as ``public_status``."""

    code: Code
    name: Bilingual
    public_status: PublicStatus = Field(description="verifikasi or diproses")
    max_working_days: int | None = Field(None, ge=1, description="Target for this stage")

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
    max_working_days: int = Field(ge=1, description="Legal maximum, working days (jangka waktu)")
    fee: int = Field(0, ge=0, description="Rupiah; 0 = gratis")
    fee_note: str | None = None
    requirements: tuple[Text, ...] = Field(min_length=1)
    stages: tuple[Stage, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _stages_consistent(self) -> Service:
        seen: set[str] = set()
        for index, stage in enumerate(self.stages):
            if stage.code in seen:
                raise _PathError(("stages", index, "code"),
                                 f"duplicate stage code {stage.code!r}")
            seen.add(stage.code)
            if stage.max_working_days is not None and stage.max_working_days > \
                    self.max_working_days:
                raise _PathError(("stages", index, "max_working_days"),
                                 f"{stage.max_working_days} exceeds the service maximum "
                                 f"{self.max_working_days}")
        return self

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def stage_index(self, code: str) -> int | None:
        return next((i for i, s in enumerate(self.stages) if s.code == code), None)


class Department(_Model):
    """An OPD (organisasi perangkat daerah) and the services it owns."""

    code: Code
    name: Bilingual
    receipt_prefixes: tuple[ReceiptPrefix, ...] = Field(
        min_length=1, description="Prefixes of the receipt numbers this department issues")
    services: dict[str, Service]

    def owns_receipt(self, receipt_number: str) -> bool:
        return receipt_number.startswith(self.receipt_prefixes)


class Jurisdiction(_Model):
    """A city (kota) or regency (kabupaten) with its own catalogue file."""

    code: Code
    name: str
    timezone: str
    version: str = Field(min_length=1)
    reporting_tolerance: int = Field(
        DEFAULT_REPORTING_TOLERANCE, ge=0, le=30,
        description="Working days a department may take to report a step before it is marked "
                    "late_reported (and counted at the conservative time)")
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
    """What a case keeps of the catalogue when it is opened (its snapshot)."""

    catalogue_version: str
    jurisdiction_code: Code
    jurisdiction_name: str
    timezone: str
    department_code: Code
    department_name: Bilingual
    service: Service
    reporting_tolerance: int = DEFAULT_REPORTING_TOLERANCE


class Catalogue(_Model):
    """Every jurisdiction's catalogue, keyed by jurisdiction code. Receipt prefixes of different
    departments never overlap (checked on construction)."""

    jurisdictions: dict[str, Jurisdiction]

    @model_validator(mode="after")
    def _prefixes_disjoint(self) -> Catalogue:
        problems = prefix_overlaps(self.jurisdictions.values())
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

    def definition(self, jurisdiction: str, service_code: str) -> ServiceDefinition | None:
        """The snapshot a new case stores, or None if the service is unknown."""
        found = self.jurisdictions.get(jurisdiction)
        service = found.service(service_code) if found else None
        if found is None or service is None:
            return None
        department = found.departments[service.department_code]
        return ServiceDefinition(
            catalogue_version=f"{found.code}@{found.version}", jurisdiction_code=found.code,
            jurisdiction_name=found.name, timezone=found.timezone,
            department_code=department.code, department_name=department.name, service=service,
            reporting_tolerance=found.reporting_tolerance)


def prefix_overlaps(jurisdictions: Any) -> list[tuple[str, str, str]]:
    """Problems (file, field, message) for every pair of departments whose receipt prefixes
    could match the same receipt (equal, or one starts with the other)."""
    owners: list[tuple[str, str, str]] = []  # (prefix, jurisdiction, department)
    for jurisdiction in jurisdictions:
        for department in jurisdiction.departments.values():
            owners.extend((p, jurisdiction.code, department.code)
                          for p in department.receipt_prefixes)
    owners.sort()
    problems: list[tuple[str, str, str]] = []
    for i, (prefix, j_code, d_code) in enumerate(owners):
        for other, j_other, d_other in owners[i + 1:]:
            if not other.startswith(prefix):
                break  # sorted: no later prefix starts with this one either
            if (j_code, d_code) != (j_other, d_other):
                problems.append((f"{j_other}.yaml",
                                 f"departments.{d_other}.receipt_prefixes",
                                 f"prefix {other!r} of {j_other}/{d_other} overlaps prefix "
                                 f"{prefix!r} of {j_code}/{d_code}: a receipt could belong to "
                                 "both; give each department its own prefixes"))
    return problems


class _PathError(ValueError):
    """Raised inside validators to point at a nested field."""

    def __init__(self, path: tuple[Any, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


def catalogue_directory() -> Path:
    return Path(os.environ.get(ENV_DIRECTORY) or DEFAULT_DIRECTORY)


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load and validate every ``*.yaml`` in ``directory`` (default ``<repo>/catalogue``, or
    ``$PANTAU_CATALOGUE_DIR``). Raises ``CatalogueError`` listing every problem found."""
    directory = Path(directory) if directory is not None else catalogue_directory()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogueError([(str(directory), "", "no *.yaml catalogue files found")])
    problems: list[tuple[str, str, str]] = []
    jurisdictions: dict[str, Jurisdiction] = {}
    for path in files:
        try:
            jurisdiction = load_jurisdiction_file(path)
        except CatalogueError as exc:
            problems.extend(exc.problems)
            continue
        jurisdictions[jurisdiction.code] = jurisdiction
    problems.extend(prefix_overlaps(jurisdictions.values()))
    if problems:
        raise CatalogueError(problems)
    return Catalogue(jurisdictions=jurisdictions)


def load_jurisdiction_file(path: Path) -> Jurisdiction:
    """Load one jurisdiction file; raises ``CatalogueError``."""
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError([(name, "", f"cannot be read as YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise CatalogueError([(name, "", "must be a mapping with code, name, timezone, "
                                         "version, departments")])
    return parse_jurisdiction(raw, name, expected_code=path.stem)


def parse_jurisdiction(raw: Mapping[str, Any], name: str = "<catalogue>",
                       expected_code: str | None = None) -> Jurisdiction:
    """Validate a decoded jurisdiction mapping (codes are filled in from the mapping keys)."""
    data = _with_codes(raw)
    problems: list[tuple[str, str, str]] = []
    if expected_code is not None and data.get("code") != expected_code:
        problems.append((name, "code", f"{data.get('code')!r} must equal the file name "
                                       f"{expected_code!r}"))
    try:
        jurisdiction = Jurisdiction.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            ctx_error = (err.get("ctx") or {}).get("error")
            message = err["msg"]
            if isinstance(ctx_error, _PathError):
                loc += list(ctx_error.path)
                message = str(ctx_error)
            elif message.startswith("Value error, "):
                message = message[len("Value error, "):]
            problems.append((name, ".".join(str(p) for p in loc), message))
        raise CatalogueError(problems) from exc
    seen: dict[str, str] = {}
    for dept_code, department in jurisdiction.departments.items():
        for service_code in department.services:
            if service_code in seen:
                problems.append((name, f"departments.{dept_code}.services.{service_code}",
                                 f"service code also used by department {seen[service_code]!r};"
                                 " service codes must be unique in a jurisdiction"))
            seen[service_code] = dept_code
    if problems:
        raise CatalogueError(problems)
    return jurisdiction


def _with_codes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Copy ``raw``, filling ``code``/``department_code`` from mapping keys (short files)."""
    data = dict(raw)
    departments = data.get("departments")
    if isinstance(departments, dict):
        new_departments: dict[str, Any] = {}
        for dept_code, dept in departments.items():
            if isinstance(dept, dict):
                dept = {"code": dept_code, **dept}
                services = dept.get("services")
                if isinstance(services, dict):
                    dept["services"] = {
                        code: ({"code": code, "department_code": dept_code, **svc}
                               if isinstance(svc, dict) else svc)
                        for code, svc in services.items()}
            new_departments[str(dept_code)] = dept
        data["departments"] = new_departments
    return data
