"""The Standar Pelayanan rules a catalogue file must meet beyond its shape. Every rule returns
problems as ``(file, field path, message)``; nothing here raises except ``CatalogueError``'s
constructor's callers.

Per jurisdiction (``jurisdiction_problems``):

* it has its Kemendagri ``region_code``;
* every service names the basis of its maximum and its fee (``basis.max``, ``basis.fee``);
* a ``statutory-default`` maximum is exactly 5 working days (UU 30/2014 Pasal 53);
* ``max_duration`` agrees with ``max_working_days`` (equal in working days; ceil(h/24) in hours);
* stage targets are in the service's unit (``max_working_days`` or ``max_hours``) and add up to
  at most the maximum; when every stage has a target and they add up to less, ``slack`` must say
  why (and ``slack`` is refused when they add up exactly);
* a channel's maximum is at least the service's (the service maximum, used for every channel not
  listed, is the strictest).

Across jurisdictions (``cross_problems``): no two departments' receipt prefixes overlap, and no
two jurisdictions share a region code.
"""

from __future__ import annotations

from collections.abc import Iterable

from pantau_contracts.catalogue.model import Jurisdiction, Service
from pantau_contracts.catalogue.standard import STATUTORY_DEFAULT_DAYS, working_days_for_hours

Problem = tuple[str, str, str]


class CatalogueError(ValueError):
    """A catalogue file is wrong. ``problems`` are (file, field path, what is wrong)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{f}: {p}: {m}" for f, p, m in problems))


def jurisdiction_problems(jurisdiction: Jurisdiction, file: str) -> list[Problem]:
    """Every Standar Pelayanan rule broken by one (shape-valid) jurisdiction."""
    problems: list[Problem] = []
    if jurisdiction.region_code is None:
        problems.append((file, "region_code", "missing: the Kemendagri kode wilayah "
                                              "(e.g. \"32.73\" for Kota Bandung)"))
    for dept_code, department in jurisdiction.departments.items():
        for code, service in department.services.items():
            path = f"departments.{dept_code}.services.{code}"
            problems.extend((file, f"{path}.{field}", message)
                            for field, message in service_problems(service))
    return problems


def service_problems(service: Service) -> list[tuple[str, str]]:
    """(field path inside the service, message) for every rule the service breaks."""
    return [*_basis_problems(service), *_duration_problems(service),
            *_stage_problems(service), *_channel_problems(service)]


def _basis_problems(service: Service) -> list[tuple[str, str]]:
    basis = service.basis
    if basis is None:
        return [("basis", "missing: cite the legal basis of the maximum (basis.max) and the fee "
                          "(basis.fee), each with source local, national or statutory-default")]
    problems = []
    if basis.fee is None:
        problems.append(("basis.fee", "missing: cite the basis of the fee (e.g. UU 23/2006 jo. "
                                      "UU 24/2013, Pasal 79A for adminduk)"))
    if basis.max.source == "statutory-default" and (
            service.max_duration is not None or service.max_working_days != STATUTORY_DEFAULT_DAYS):
        problems.append(("max_working_days", f"a statutory-default maximum is "
                                             f"{STATUTORY_DEFAULT_DAYS} working days "
                                             "(UU 30/2014 Pasal 53)"))
    return problems


def _duration_problems(service: Service) -> list[tuple[str, str]]:
    duration = service.max_duration
    if duration is None:
        return []
    expected = duration.value if duration.unit == "working_days" else \
        working_days_for_hours(duration.value)
    if service.max_working_days != expected:
        return [("max_working_days", f"{service.max_working_days} disagrees with max_duration "
                                     f"{duration.value} {duration.unit} (tracked as {expected} "
                                     "working days); omit it or make it agree")]
    return []


def _stage_problems(service: Service) -> list[tuple[str, str]]:
    in_hours = service.max_duration is not None and service.max_duration.unit == "hours"
    unit, wrong = ("max_hours", "max_working_days") if in_hours else \
        ("max_working_days", "max_hours")
    limit = service.max_duration.value if in_hours and service.max_duration else \
        service.max_working_days
    problems = [(f"stages.{i}.{wrong}", f"this service is counted in "
                                        f"{'hours' if in_hours else 'working days'}: use {unit}")
                for i, stage in enumerate(service.stages) if getattr(stage, wrong) is not None]
    targets = [getattr(stage, unit) for stage in service.stages]
    total = sum(t for t in targets if t is not None)
    complete = all(t is not None for t in targets)
    if total > limit:
        problems.append(("stages", f"stage targets add up to {total}, more than the maximum "
                                   f"{limit}: fix the targets"))
    elif complete and total < limit and service.slack is None:
        problems.append(("stages", f"stage targets add up to {total}, less than the maximum "
                                   f"{limit}: fix them, or say in `slack` why the gap is "
                                   "intended"))
    elif complete and total == limit and service.slack is not None:
        problems.append(("slack", "the stage targets add up to the maximum: drop `slack`"))
    return problems


def _channel_problems(service: Service) -> list[tuple[str, str]]:
    return [(f"channels.{name}.max_working_days",
             f"{channel.max_working_days} is below the service maximum "
             f"{service.max_working_days}; the service maximum applies to unlisted channels and "
             "must be the strictest")
            for name, channel in service.channels.items()
            if channel.max_working_days < service.max_working_days]


def cross_problems(jurisdictions: Iterable[Jurisdiction]) -> list[Problem]:
    """Problems between jurisdictions: prefix overlaps and shared region codes."""
    found = list(jurisdictions)
    return [*prefix_overlaps(found), *_region_code_clashes(found)]


def _region_code_clashes(jurisdictions: list[Jurisdiction]) -> list[Problem]:
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for jurisdiction in jurisdictions:
        code = jurisdiction.region_code
        if code is None:
            continue
        if code in owners:
            problems.append((f"{jurisdiction.code}.yaml", "region_code",
                             f"{code} is also the region code of {owners[code]}"))
        owners.setdefault(code, jurisdiction.code)
    return problems


def prefix_overlaps(jurisdictions: Iterable[Jurisdiction]) -> list[Problem]:
    """Problems (file, field, message) for every pair of departments whose receipt prefixes
    could match the same receipt (equal, or one starts with the other)."""
    owners: list[tuple[str, str, str]] = []  # (prefix, jurisdiction, department)
    for jurisdiction in jurisdictions:
        for department in jurisdiction.departments.values():
            owners.extend((p, jurisdiction.code, department.code)
                          for p in department.receipt_prefixes)
    owners.sort()
    problems: list[Problem] = []
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
