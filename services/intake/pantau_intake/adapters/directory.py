"""``ServiceDirectory`` on the shared service catalogue (``pantau_contracts.catalogue``).

Answers which departments exist, which department owns a service and which receipt numbers a
department owns (its catalogue ``receipt_prefixes``; an unknown department owns none)."""

from __future__ import annotations

from pantau_contracts.catalogue import Catalogue, load_catalogue


class CatalogueDirectory:
    """Answers department/service/receipt ownership from the loaded catalogue (loaded once)."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self._catalogue = catalogue or load_catalogue()

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    def has_department(self, jurisdiction: str, department: str) -> bool:
        return self._catalogue.department(jurisdiction, department) is not None

    def department_of_service(self, jurisdiction: str, service_code: str) -> str | None:
        service = self._catalogue.service(jurisdiction, service_code)
        return service.department_code if service is not None else None

    def owns_receipt(self, jurisdiction: str, department: str, receipt: str) -> bool:
        found = self._catalogue.department(jurisdiction, department)
        return found is not None and found.owns_receipt(receipt)

    def receipt_prefixes(self, jurisdiction: str, department: str) -> tuple[str, ...]:
        found = self._catalogue.department(jurisdiction, department)
        return tuple(found.receipt_prefixes) if found is not None else ()
