"""Transparency feeds (Atom 1.0 and JSON Feed 1.1) of public status changes.

A change is one ``pantau-changes`` document (see ``record.change_documents``), re-checked on the
way out by ``record.clean_change`` (``PublicRecords.changes``): valid shape, note redacted again.
Feeds carry only those fields; links point at the public case page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from pantau_contracts.redaction import redact_text
from pantau_contracts.vocabulary import STATUS_LABELS, PublicStatus

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_SCOPES = {"jurisdiction": "jurisdiction_code", "department": "department_code",
               "service": "service_code", "case": "receipt_number"}


@dataclass(frozen=True)
class FeedInfo:
    title: str
    feed_url: str
    home_url: str
    base_url: str  # absolute base for case links, without a trailing slash
    lang: str = "id"


def entry_title(change: dict[str, Any], lang: str = "id") -> str:
    status = STATUS_LABELS[PublicStatus(change["status"])][lang]
    service = (change.get("service_name") or {}).get(lang) or change["service_code"]
    stage = (change.get("stage_name") or {}).get(lang)
    return f"{change['receipt_number']} — {service}: {status}" + (f" ({stage})" if stage else "")


def entry_id(change: dict[str, Any]) -> str:
    return f"urn:pantau:case:{change['receipt_number']}:{change['seq']}"


def case_url(info: FeedInfo, change: dict[str, Any]) -> str:
    return f"{info.base_url}/kasus/{change['receipt_number']}"


def summary(change: dict[str, Any], lang: str) -> str:
    """The entry text: the note (redacted here too — a feed is a publication) or the title."""
    return redact_text(change.get("note")) or entry_title(change, lang)


def _updated(changes: Sequence[dict[str, Any]]) -> str:
    if not changes:
        return datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    return max(str(c["at"]) for c in changes)


def atom(info: FeedInfo, changes: Sequence[dict[str, Any]]) -> bytes:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": info.lang})

    def sub(parent: ET.Element, tag: str, text: str | None = None,
            **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    sub(feed, "id", info.feed_url)
    sub(feed, "title", info.title)
    sub(feed, "updated", _updated(changes))
    sub(feed, "link", rel="self", href=info.feed_url)
    sub(feed, "link", rel="alternate", href=info.home_url)
    author = sub(feed, "author")
    sub(author, "name", "Pantau")
    for change in changes:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(change))
        sub(entry, "title", entry_title(change, info.lang))
        sub(entry, "updated", str(change["at"]))
        sub(entry, "link", rel="alternate", href=case_url(info, change))
        sub(entry, "category", term=str(change["status"]))
        sub(entry, "summary", summary(change, info.lang))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + _xml_bytes(feed)


def json_feed(info: FeedInfo, changes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.home_url,
        "feed_url": info.feed_url,
        "language": info.lang,
        "items": [{
            "id": entry_id(change),
            "url": case_url(info, change),
            "title": entry_title(change, info.lang),
            "content_text": summary(change, info.lang),
            "date_published": str(change["at"]),
            "tags": [str(change["status"]), str(change["jurisdiction_code"]),
                     str(change["department_code"]), str(change["service_code"])],
        } for change in changes],
    }


def _xml_bytes(element: ET.Element) -> bytes:
    serialized: bytes = ET.tostring(element, encoding="utf-8")
    return serialized
