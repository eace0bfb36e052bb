"""The open-data catalogue: ``/data.json`` in the DCAT-US 1.1 (Project Open Data) shape, and the
data dictionaries (Frictionless Table Schema) its datasets point to with ``describedBy``.

Plain Python: ``catalog(catalogue, base, modified, publisher)`` builds the whole document from
the service catalogue — one cases dataset and one monthly-statistics dataset per jurisdiction and
per department — every URL absolute under ``base`` (``PANTAU_PUBLIC_BASE_URL``). CKAN's
``ckanext-dcat``/``datajson`` harvesters and Satu Data Indonesia read this shape; the fields the
DCAT-US 1.1 (non-federal) schema requires are always present: catalog ``conformsTo`` and
``dataset``; per dataset ``title``, ``description``, ``keyword``, ``modified``, ``publisher``
(``name``), ``contactPoint`` (``fn``, ``hasEmail`` as ``mailto:``), ``identifier`` and
``accessLevel``; per distribution ``downloadURL`` with ``mediaType``, or ``accessURL``.

Licence: CC BY 4.0 on every dataset. The record is public by design (``PublicCaseV2`` is the
allowlist: no name, NIK, phone, e-mail or address), hence ``accessLevel: public``.

``CASE_FIELDS`` / ``STATISTICS_FIELDS`` describe the columns of the CSV export
(``portal.exports.COLUMNS``) and of ``statistik.csv`` (``domain.monthly.CSV_COLUMNS``); a unit
test keeps them equal, so a new column cannot ship undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pantau_contracts.catalogue import Catalogue, Department, Jurisdiction
from pantau_contracts.vocabulary import PublicStatus

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
SCHEMA = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
OPEN311 = "http://wiki.open311.org/GeoReport_v2/"
TABLE_SCHEMA = "https://specs.frictionlessdata.io/table-schema/"
CASES_DICTIONARY = "/data/dictionary/cases.json"
STATISTICS_DICTIONARY = "/data/dictionary/statistics.json"
# ISO 8601 repeating durations (the DCAT-US frequency list): the case record changes as events
# arrive (continuously); the monthly figures are recomputed on every request, read them daily
CASES_PERIODICITY = "R/PT1S"
STATISTICS_PERIODICITY = "R/P1D"


@dataclass(frozen=True)
class Publisher:
    """Who publishes the catalogue and whom to ask (``PANTAU_OPEN_DATA_*``)."""

    name: str
    contact_name: str
    contact_email: str


def _field(name: str, type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": description, **extra}


_STATUS_NAMES = ", ".join(s.value for s in PublicStatus)
CASE_FIELDS: list[dict[str, Any]] = [
    _field("receipt_number", "string", "Nomor tanda terima (receipt number) the department "
           "issued; unique. Contains no personal data.", constraints={"required": True,
                                                                      "unique": True}),
    _field("revision", "integer", "Grows with every change of the public record."),
    _field("jurisdiction_code", "string", "Kota/kabupaten code in Pantau's catalogue, e.g. "
           "kota-bandung."),
    _field("jurisdiction_name", "string", "Name of the kota/kabupaten."),
    _field("department_code", "string", "Department (OPD) code; repeats across "
           "jurisdictions, so read it with jurisdiction_code."),
    _field("department_name", "string", "Department name (Bahasa Indonesia)."),
    _field("service_code", "string", "Service code; unique within a jurisdiction."),
    _field("service_name", "string", "Service name (Bahasa Indonesia)."),
    _field("catalogue_version", "string", "Version of the Standar Pelayanan catalogue the case "
           "was opened under."),
    _field("kecamatan", "string", "District (kecamatan) of the application, if reported."),
    _field("channel", "string", "Submission channel: loket, online, mpp or other."),
    _field("status", "string", f"Current public status: {_STATUS_NAMES}.",
           constraints={"enum": [s.value for s in PublicStatus]}),
    _field("stage_code", "string", "Current stage of the service's procedure, if any."),
    _field("submitted_at", "datetime", "When the department says the case was submitted "
           "(ISO 8601 with offset)."),
    _field("updated_at", "datetime", "Time of the latest public change."),
    _field("closed_at", "datetime", "When the case was completed, rejected or withdrawn."),
    _field("due_date", "date", "Last working day within the legal maximum."),
    _field("max_working_days", "integer", "Legal maximum (jangka waktu) in Indonesian working "
           "days, for the case's submission channel."),
    _field("working_days_elapsed", "number", "Working days counted so far on the service "
           "clock (paused while returned to the applicant)."),
    _field("overdue", "boolean", "Past the legal maximum."),
    _field("withdrawn", "boolean", "Withdrawn by the applicant."),
    _field("reporting_tolerance_days", "integer", "Working days a department may take to "
           "report a step before it counts as reported late."),
    _field("late_reported", "boolean", "Some step was reported later than the tolerance "
           "allows (the clock then counts it at the conservative time)."),
    _field("steps_reported_late", "integer", "How many steps were reported late."),
] + [field for s in PublicStatus for field in (
    _field(f"{s.value}_at", "datetime", f"First time the case reached '{s.value}', as the "
           "department claims it."),
    _field(f"{s.value}_received_at", "datetime", f"When Pantau received the report of "
           f"reaching '{s.value}' (intake's own clock)."))]

STATISTICS_FIELDS: list[dict[str, Any]] = [
    _field("jurisdiction", "string", "Kota/kabupaten code (empty: all)."),
    _field("department", "string", "Department code (empty: all of the jurisdiction)."),
    _field("service", "string", "Service code (empty: all of the department)."),
    _field("time_zone", "string", "IANA zone the months are cut in (Asia/Jakarta)."),
    _field("month", "yearmonth", "Calendar month (YYYY-MM)."),
    _field("received", "integer", "Cases submitted in the month."),
    _field("completed", "integer", "Cases completed in the month."),
    _field("completed_within_legal_maximum", "integer", "Of those, completed within the "
           "legal maximum."),
    _field("share_within_legal_maximum", "number", "completed_within_legal_maximum / "
           "completed (0–1); empty without completed cases."),
    _field("median_working_days", "number", "Median working days from submission to "
           "completion of the month's completed cases."),
]


def dictionary(kind: str, base: str) -> dict[str, Any]:
    """The Table Schema of ``cases`` (the export) or ``statistics`` (``statistik.csv``)."""
    if kind == "cases":
        return {"$schema": TABLE_SCHEMA, "title": "Pantau public case record (CSV export)",
                "description": "Columns of /export/cases.csv; /export/cases.ndjson has the same "
                               "keys plus the whole timeline of every case.",
                "fields": CASE_FIELDS, "primaryKey": ["receipt_number"],
                "missingValues": [""], "license": LICENSE, "homepage": base + "/data.json"}
    if kind == "statistics":
        return {"$schema": TABLE_SCHEMA, "title": "Pantau monthly statistics (statistik.csv)",
                "description": "Monthly figures of one place (jurisdiction, department or "
                               "service), the months in the jurisdiction's time zone.",
                "fields": STATISTICS_FIELDS, "missingValues": [""], "license": LICENSE,
                "homepage": base + "/data.json"}
    raise KeyError(kind)


def catalog(catalogue: Catalogue | None, base: str, modified: datetime,
            publisher: Publisher) -> dict[str, Any]:
    """The ``/data.json`` document (see the module docstring)."""
    common = _common(base, modified, publisher)
    datasets = [_all_cases(base, common)]
    for jurisdiction in catalogue.jurisdictions.values() if catalogue else ():
        datasets += _datasets(base, common, jurisdiction, None)
        for department in jurisdiction.departments.values():
            datasets += _datasets(base, common, jurisdiction, department)
    return {"@context": CONTEXT, "@id": f"{base}/data.json", "@type": "dcat:Catalog",
            "conformsTo": CONFORMS_TO, "describedBy": SCHEMA, "dataset": datasets}


def _common(base: str, modified: datetime, publisher: Publisher) -> dict[str, Any]:
    return {
        "@type": "dcat:Dataset", "accessLevel": "public", "license": LICENSE,
        "modified": modified.isoformat(timespec="seconds"), "language": ["id"],
        "publisher": {"@type": "org:Organization", "name": publisher.name},
        "contactPoint": {"@type": "vcard:Contact", "fn": publisher.contact_name,
                         "hasEmail": f"mailto:{publisher.contact_email}"},
        "landingPage": base + "/umpan", "references": [base + "/api/docs"],
    }


def _all_cases(base: str, common: dict[str, Any]) -> dict[str, Any]:
    return {**common, "identifier": f"{base}/data.json#cases",
            "title": "Kasus layanan publik — Jawa Barat (semua daerah)",
            "description": "The public, redacted record of every service case Pantau tracks in "
                           "West Java's kota/kabupaten: status, stages and the working-day "
                           "clock against the legal maximum. No personal data.",
            "keyword": ["layanan publik", "standar pelayanan", "perizinan", "kependudukan",
                        "Jawa Barat", "Open311"],
            "spatial": "Provinsi Jawa Barat (32)", "accrualPeriodicity": CASES_PERIODICITY,
            "describedBy": base + CASES_DICTIONARY, "describedByType": "application/json",
            "distribution": _case_distributions(base, {}, "/feed", None)}


def _datasets(base: str, common: dict[str, Any], jurisdiction: Jurisdiction,
              department: Department | None) -> list[dict[str, Any]]:
    """The cases dataset and the statistics dataset of a jurisdiction or one department."""
    j = jurisdiction.code
    path = f"{j}/{department.code}" if department else j
    where = (f"{department.name.id} — {jurisdiction.name}" if department
             else jurisdiction.name)
    filters = {"jurisdiction": j, **({"department": department.code} if department else {})}
    feed = (f"/feeds/department/{j}/{department.code}" if department
            else f"/feeds/jurisdiction/{j}")
    keywords = [jurisdiction.name, "layanan publik", "standar pelayanan",
                *([department.code.upper()] if department else [])]
    spatial = (f"{jurisdiction.name} ({jurisdiction.region_code})" if jurisdiction.region_code
               else jurisdiction.name)
    place = {**common, "spatial": spatial, "keyword": keywords,
             "landingPage": f"{base}/dasbor/{path}"}
    cases = {**place, "identifier": f"{base}/data.json#cases/{path}",
             "title": f"Kasus layanan publik — {where}",
             "description": f"The public, redacted record of the service cases of {where}: "
                            "status, stages, both clocks (claimed and received) and the "
                            "working-day clock against the legal maximum. No personal data.",
             "accrualPeriodicity": CASES_PERIODICITY,
             "describedBy": base + CASES_DICTIONARY, "describedByType": "application/json",
             "distribution": _case_distributions(base, filters, feed,
                                                 None if department else j)}
    statistics = {**place, "identifier": f"{base}/data.json#statistics/{path}",
                  "title": f"Statistik bulanan layanan — {where}",
                  "description": f"Monthly figures of {where}: cases received and completed, "
                                 "share completed within the legal maximum, median working "
                                 "days.",
                  "accrualPeriodicity": STATISTICS_PERIODICITY,
                  "describedBy": base + STATISTICS_DICTIONARY,
                  "describedByType": "application/json",
                  "distribution": [{
                      "@type": "dcat:Distribution", "title": "statistik.csv",
                      "downloadURL": f"{base}/dasbor/{path}/statistik.csv",
                      "mediaType": "text/csv", "format": "CSV",
                      "describedBy": base + STATISTICS_DICTIONARY,
                      "describedByType": "application/json"}]}
    return [cases, statistics]


def _case_distributions(base: str, filters: dict[str, str], feed: str,
                        open311_jurisdiction: str | None) -> list[dict[str, Any]]:
    query = f"?{urlencode(filters)}" if filters else ""
    dictionary_ref = {"describedBy": base + CASES_DICTIONARY,
                      "describedByType": "application/json"}
    found: list[dict[str, Any]] = [
        {"@type": "dcat:Distribution", "title": "CSV", "format": "CSV", "mediaType": "text/csv",
         "downloadURL": f"{base}/export/cases.csv{query}", **dictionary_ref},
        {"@type": "dcat:Distribution", "title": "NDJSON (with timelines)", "format": "NDJSON",
         "mediaType": "application/x-ndjson",
         "downloadURL": f"{base}/export/cases.ndjson{query}", **dictionary_ref},
        {"@type": "dcat:Distribution", "title": "Atom feed of status changes", "format": "Atom",
         "mediaType": "application/atom+xml", "downloadURL": f"{base}{feed}.atom"},
        {"@type": "dcat:Distribution", "title": "JSON Feed of status changes",
         "format": "JSON Feed", "mediaType": "application/feed+json",
         "downloadURL": f"{base}{feed}.json"},
        {"@type": "dcat:Distribution", "title": "Pantau JSON API (/api/v1)", "format": "API",
         "accessURL": f"{base}/api/v1/cases{query}", "conformsTo": f"{base}/api/v1/openapi.json"},
    ]
    if open311_jurisdiction:  # Open311 is per jurisdiction (jurisdiction_id is required)
        found.append({"@type": "dcat:Distribution", "title": "Open311 GeoReport v2",
                      "format": "API", "conformsTo": OPEN311,
                      "accessURL": f"{base}/open311/v2/requests.json?"
                                   + urlencode({"jurisdiction_id": open311_jurisdiction})})
    return found
