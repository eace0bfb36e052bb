"""``CatalogueNames``: the display names of facet values, from the service catalogue.

The search's facets aggregate codes only (``domain.query.FACETS``: naming each bucket from the
index tripled the cost of a facet request); this ``FacetNames`` names them: a jurisdiction by its
name, a department or service of a jurisdiction by its Indonesian and English names. A code the
catalogue does not know (removed since, or no catalogue could be loaded) has no name: the portal
shows the code.
"""

from __future__ import annotations

from pantau_contracts.catalogue.model import Catalogue


class CatalogueNames:
    """``FacetNames`` over one loaded catalogue (``None``: every name unknown)."""

    def __init__(self, catalogue: Catalogue | None) -> None:
        self._names: dict[tuple[str, str | None, str], tuple[str, str | None]] = {}
        for place in catalogue.jurisdictions.values() if catalogue is not None else ():
            self._names["jurisdiction", None, place.code] = (place.name, None)
            for department in place.departments.values():
                self._names["department", place.code, department.code] = (
                    department.name.id, department.name.en)
                for code, service in department.services.items():
                    self._names["service", place.code, code] = (service.name.id,
                                                                service.name.en)

    def __call__(self, facet: str, jurisdiction: str | None,
                 code: str) -> tuple[str, str | None] | None:
        return self._names.get((facet, jurisdiction, code))
