"""Places on the portal: resolving bare codes, naming places, their time zone and their URLs.

A bare department or service code is resolved against both the catalogue this process loaded
and the indexed cases (a jurisdiction may have cases before its catalogue file reaches this
process, or the other way round): one owner → the caller redirects; several → the reader (or
API client) chooses; none → unknown. See ``domain.places``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from pantau_publishing.domain.places import Place
from pantau_publishing.portal.case_view import ServiceStandards
from pantau_publishing.portal.deps import records

DEFAULT_ZONE = "Asia/Jakarta"  # every West Java jurisdiction is in WIB


def standards(request: Request) -> ServiceStandards:
    found = getattr(request.app.state, "standards", None)
    return found if isinstance(found, ServiceStandards) else ServiceStandards(None)


def now(request: Request) -> datetime:
    """The portal's clock (tests put a fixed one in ``app.state.clock``)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if callable(clock) else datetime.now(UTC)


def catalogue_owners(found: ServiceStandards, level: str, code: str) -> list[Place]:
    catalogue = found.catalogue
    places: list[Place] = []
    for jurisdiction in catalogue.jurisdictions.values() if catalogue else ():
        for department in jurisdiction.departments.values():
            if level == "department" and department.code == code:
                places.append(Place(jurisdiction.code, department.code))
            if level == "service" and code in department.services:
                places.append(Place(jurisdiction.code, department.code, code))
    return places


def resolve(request: Request, level: str, code: str,
            jurisdiction: str | None = None) -> list[Place]:
    """Every place holding this bare code (in ``jurisdiction`` only, when given)."""
    found = set(catalogue_owners(standards(request), level, code))
    found.update(records(request).owners(level, code))
    return sorted((p for p in found if jurisdiction in (None, p.jurisdiction)),
                  key=lambda p: p.parts)


def known(request: Request, place: Place) -> bool:
    """Does the catalogue or the index know this place?"""
    if not place.level:
        return True
    if place.level == "jurisdiction":
        catalogue = standards(request).catalogue
        if catalogue is not None and catalogue.jurisdiction(str(place.jurisdiction)):
            return True
    elif place in catalogue_owners(standards(request), place.level, str(
            place.service or place.department)):
        return True
    return records(request).has_cases(place)


def zone(request: Request, jurisdiction: str | None) -> str:
    catalogue = standards(request).catalogue
    found = catalogue.jurisdiction(jurisdiction) if catalogue and jurisdiction else None
    return found.timezone if found else DEFAULT_ZONE


def names(request: Request, place: Place, lang: str) -> list[str]:
    """Display names of the place's levels (the code when the catalogue does not know it)."""
    catalogue = standards(request).catalogue
    found = catalogue.jurisdiction(place.jurisdiction) if catalogue and place.jurisdiction \
        else None
    out = [found.name if found else place.jurisdiction] if place.jurisdiction else []
    department = found.departments.get(place.department) if found and place.department \
        else None
    if place.department:
        out.append((department.name.en if lang == "en" else department.name.id)
                   if department else place.department)
    service = department.services.get(place.service) if department and place.service else None
    if place.service:
        out.append((service.name.en if lang == "en" else service.name.id)
                   if service else place.service)
    return [str(n) for n in out]


def place_name(request: Request, place: Place, lang: str) -> str:
    """``PBG — DPMPTSP — Kota Bandung``: the deepest level first, its jurisdiction last."""
    return " — ".join(reversed(names(request, place, lang)))


def dashboard_url(place: Place) -> str:
    return f"/dasbor/{place.path}" if place.path else "/dasbor"


def feed_url(place: Place, fmt: str) -> str:
    """``/feeds/jurisdiction/{j}``, ``/feeds/department/{j}/{d}``, ``/feeds/service/{j}/{s}``."""
    if place.level == "jurisdiction":
        return f"/feeds/jurisdiction/{place.jurisdiction}.{fmt}"
    code = place.service if place.level == "service" else place.department
    return f"/feeds/{place.level}/{place.jurisdiction}/{code}.{fmt}"


def feed_places(request: Request, lang: str) -> list[tuple[str, Place, str, int]]:
    """(level, place, display name, depth) for every jurisdiction, department and service of
    the catalogue, in its order — each with its own feed and dashboard."""
    catalogue = standards(request).catalogue
    found: list[tuple[str, Place, str, int]] = []
    for jurisdiction in catalogue.jurisdictions.values() if catalogue else ():
        found.append(("jurisdiction", Place(jurisdiction.code), jurisdiction.name, 0))
        for department in jurisdiction.departments.values():
            name = department.name.en if lang == "en" else department.name.id
            found.append(("department", Place(jurisdiction.code, department.code),
                          f"{name} ({jurisdiction.name})", 1))
            for service in department.services.values():
                label = service.name.en if lang == "en" else service.name.id
                found.append(("service", Place(jurisdiction.code, department.code,
                                               service.code),
                              f"{label} ({jurisdiction.name})", 2))
    return found
