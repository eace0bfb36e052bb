"""Open311 GeoReport v2 (read side): services and service requests from public records.

Only public fields are mapped. Address, latitude/longitude and media are never given: a permit
applicant's location is personal data, so those GeoReport fields are simply absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import xml


def service_request(case: PublicCaseV2) -> dict[str, Any]:
    latest_note = next((e.note for e in sorted(case.timeline, key=lambda e: -e.seq) if e.note),
                       None)
    expected = None
    if case.due_date is not None:
        expected = datetime.combine(case.due_date, time(23, 59, 59),
                                    ZoneInfo(case.timezone)).isoformat()
    return {
        "service_request_id": case.receipt_number,
        "status": case.status.open311.value,
        "status_notes": latest_note,
        "service_name": case.service_name.id,
        "service_code": case.service_code,
        "description": f"{case.service_name.id} — {case.status.value}",
        "agency_responsible": case.department_name.id,
        "service_notice": None,
        "requested_datetime": case.submitted_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": expected,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def service(code: str, name: str, department: str) -> dict[str, Any]:
    return {"service_code": code, "service_name": name, "description": name, "metadata": False,
            "type": "realtime", "keywords": department, "group": department}


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": "2026-01-01T00:00:00Z",
        "contact": "Pantau — layanan publik terbuka",
        "key_service": "Read-only endpoint; no API key needed.",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": f"{base_url}/open311/v2",
            "changeset": "2026-01-01T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }


def to_xml(root: str, item: str, rows: Sequence[dict[str, Any]]) -> bytes:
    """GeoReport XML: ``<root><item><field>value</field>…</item>…</root>``."""
    top = ET.Element(root)
    for row in rows:
        top.append(_element(item, row))
    return xml.document(top)


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
