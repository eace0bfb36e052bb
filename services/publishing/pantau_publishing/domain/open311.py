"""Open311 GeoReport v2 (read side): the documents — service list and definitions from the
catalogue, service requests from public records, discovery and errors — as JSON-ready dicts and
as GeoReport XML (schemaless, no namespace, UTF-8).

Only public fields are mapped. Address, latitude/longitude and media are never given: a permit
applicant's location is personal data, so those GeoReport fields stay empty. Date-times are W3C
(second precision, with the offset), in the jurisdiction's own time zone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from pantau_contracts.catalogue import Department, Jurisdiction, Service
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import xml

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00Z"  # bump when what the endpoint answers changes
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def w3c(instant: datetime, zone: str) -> str:
    """``2010-01-01T08:00:00+07:00``: W3C date-time in ``zone``, with its offset."""
    return instant.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat()


def service_request(case: PublicCaseV2) -> dict[str, Any]:
    latest_note = next((e.note for e in sorted(case.timeline, key=lambda e: -e.seq) if e.note),
                       None)
    expected = None
    if case.due_date is not None:  # the end of the last working day allowed
        expected = w3c(datetime.combine(case.due_date, time(23, 59, 59),
                                        ZoneInfo(case.timezone)), case.timezone)
    closed = case.status.open311.value == "closed"
    # "For requests with status=closed, this will be the date the request was closed."
    updated = case.closed_at if closed and case.closed_at else case.updated_at
    return {
        "service_request_id": case.receipt_number,
        "status": case.status.open311.value,
        "status_notes": latest_note,
        "service_name": case.service_name.id,
        "service_code": case.service_code,
        "description": f"{case.service_name.id} — {case.status.value}",
        "agency_responsible": case.department_name.id,
        "service_notice": None,
        "requested_datetime": w3c(case.submitted_at, case.timezone),
        "updated_datetime": w3c(updated, case.timezone),
        "expected_datetime": expected,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def service(service: Service, department: Department) -> dict[str, Any]:
    """One entry of GET Service List: from the catalogue, so a service with no case yet is
    listed too. ``metadata`` is false: Pantau collects no attributes (the definition's list is
    empty), and ``type`` realtime: a department gives its receipt number at once."""
    fee = "gratis" if service.fee == 0 else f"Rp{service.fee:,}".replace(",", ".")
    return {
        "service_code": service.code, "service_name": service.name.id,
        "description": f"{service.name.id} ({service.name.en}). Jangka waktu paling lama "
                       f"{_maximum(service)}; biaya {fee}.",
        "metadata": False, "type": "realtime",
        "keywords": ", ".join((service.code, service.name.en, department.code,
                               department.name.en)),
        "group": department.name.id,
    }


def _maximum(service: Service) -> str:
    duration = getattr(service, "max_duration", None)  # catalogues may state hours
    if duration is not None and getattr(duration, "unit", None) == "hours":
        return f"{duration.value} jam"
    return f"{service.max_working_days} hari kerja"


def services(jurisdiction: Jurisdiction) -> list[dict[str, Any]]:
    """GET Service List of one jurisdiction, in catalogue order."""
    return [service(s, d) for d in jurisdiction.departments.values()
            for s in d.services.values()]


def service_definition(service: Service) -> dict[str, Any]:
    """GET Service Definition: no attributes to fill in (a read-only endpoint asks nothing)."""
    return {"service_code": service.code, "attributes": []}


def error(status: int, description: str) -> list[dict[str, Any]]:
    """The Open311 error document: a list of ``{code, description}``."""
    return [{"code": status, "description": description}]


def to_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": f"Pantau — layanan publik terbuka: {base_url}/",
        "key_service": "Read-only endpoint: no API key is needed, and none is issued "
                       "(service requests are made at the department, not here).",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": f"{base_url}/open311/v2",
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }


def to_xml(root: str, item: str, rows: Sequence[dict[str, Any]]) -> bytes:
    """GeoReport XML: ``<root><item><field>value</field>…</item>…</root>`` (service list,
    service requests, errors)."""
    top = ET.Element(root)
    for row in rows:
        top.append(_element(item, row))
    return xml.document(top)


def definition_xml(document: dict[str, Any]) -> bytes:
    """``<service_definition><service_code>…</service_code><attributes/></…>``."""
    return xml.document(_element("service_definition", document))


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            element.append(_element(key, inner))
    elif isinstance(value, list):
        singular = tag[:-1] if tag.endswith("s") else tag
        for inner in value:
            element.append(_element(singular, inner))
    elif value is None:
        pass
    elif isinstance(value, bool):
        element.text = str(value).lower()
    else:
        element.text = str(value)
    return element


def discovery_xml(doc: dict[str, Any]) -> bytes:
    root = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        ET.SubElement(root, key).text = str(doc[key])
    endpoints = ET.SubElement(root, "endpoints")
    for endpoint in doc["endpoints"]:
        element = ET.SubElement(endpoints, "endpoint")
        for key in ("specification", "url", "changeset", "type"):
            ET.SubElement(element, key).text = str(endpoint[key])
        formats = ET.SubElement(element, "formats")
        for value in endpoint["formats"]:
            ET.SubElement(formats, "format").text = value
    return xml.document(root)
