"""A small service catalogue for Open311 tests without the repository's: jurisdictions whose
department and service codes repeat (``dpmptsp``/``pbg``, ``slf``), as West Java's do."""

from __future__ import annotations

from pantau_contracts.catalogue import Catalogue, Jurisdiction

PREFIXES = {"kota-bandung": "BDG-", "kab-bandung": "KABBDG-"}


def jurisdiction(code: str, prefix: str, services: tuple[str, ...] = ("pbg", "slf")
                 ) -> Jurisdiction:
    """A small catalogue entry: one department whose codes repeat in every jurisdiction."""
    stage = {"code": "verifikasi-berkas", "name": {"id": "Verifikasi", "en": "Check"},
             "public_status": "verifikasi", "max_working_days": 3}
    return Jurisdiction.model_validate({
        "code": code, "name": code.title(), "timezone": "Asia/Jakarta", "version": "2026.1",
        "departments": {"dpmptsp": {
            "code": "dpmptsp", "name": {"id": "DPMPTSP", "en": "One-stop office"},
            "receipt_prefixes": [prefix],
            "services": {s: {"code": s, "department_code": "dpmptsp",
                             "name": {"id": f"Layanan {s.upper()}", "en": f"{s.upper()} service"},
                             "max_working_days": 10, "fee": 0, "requirements": ["KTP-el"],
                             "stages": [stage]} for s in services}}}})


def catalogue(*codes: str) -> Catalogue:
    """The catalogue of these jurisdictions (``kota-bandung``, ``kab-bandung``)."""
    return Catalogue(jurisdictions={c: jurisdiction(c, PREFIXES[c]) for c in codes})
