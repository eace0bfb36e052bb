"""Transparency feeds (Atom 1.0 and JSON Feed 1.1) of public status changes.

A change is one ``pantau-changes`` document (see ``record.change_documents``), re-checked on the
way out by ``record.clean_change`` (``PublicRecords.changes``): valid shape, note redacted again.
Feeds carry only those fields; links point at the public case page.

Every entry carries both clocks: the time the department claims the step happened (``at``) and
the time Pantau received the report (``received_at``) — in words in the entry text (written by
``FeedInfo.clocks``, which the portal supplies in the reader's language and zone) and as data
(JSON Feed: the ``_pantau`` extension object). An entry is dated by ``received_at``: that is when
it became public, so a step reported late appears at the top of the feed instead of being
back-dated below entries a subscriber already read. A step reported late also carries a marker:
the title ends with ``⚠ <late_label>``, Atom gets ``<category term="late-reported">`` and JSON
Feed the tag ``late-reported``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from pantau_contracts.redaction import redact_text
from pantau_contracts.vocabulary import STATUS_LABELS, PublicStatus
from pantau_publishing.domain import xml

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_SCOPES = {"jurisdiction": "jurisdiction_code", "department": "department_code",
               "service": "service_code", "case": "receipt_number"}
LATE_TERM = "late-reported"


@dataclass(frozen=True)
class FeedInfo:
    title: str
    feed_url: str
    home_url: str
    base_url: str  # absolute base for case links, without a trailing slash
    lang: str = "id"
    clocks: Callable[[Mapping[str, Any]], str] | None = None
    """Both clocks of a change in words (the portal's, in ``lang`` and the jurisdiction's zone);
    without it the entry text gives them as ISO 8601 times."""
    late_label: str = "late-reported"  # the words of the late marker in titles and categories


def entry_title(change: Mapping[str, Any], lang: str = "id",
                late_label: str = "late-reported") -> str:
    status = STATUS_LABELS[PublicStatus(change["status"])][lang]
    service = (change.get("service_name") or {}).get(lang) or change["service_code"]
    stage = (change.get("stage_name") or {}).get(lang)
    title = f"{change['receipt_number']} — {service}: {status}" + (f" ({stage})" if stage else "")
    return title + (f" — ⚠ {late_label}" if change.get("late_reported") else "")


def entry_id(change: Mapping[str, Any]) -> str:
    return f"urn:pantau:case:{change['receipt_number']}:{change['seq']}"


def case_url(info: FeedInfo, change: Mapping[str, Any]) -> str:
    return f"{info.base_url}/kasus/{change['receipt_number']}"


def received(change: Mapping[str, Any]) -> str:
    """When the change became public: Pantau received it (the claimed time for a document
    from before the two clocks)."""
    return str(change.get("received_at") or change["at"])


def iso_clocks(change: Mapping[str, Any]) -> str:
    """Both clocks as ISO 8601 times (when no ``FeedInfo.clocks`` is given)."""
    text = f"at: {change['at']}; received_at: {received(change)}"
    if change.get("late_reported"):
        text += (f"; late-reported: {change.get('reporting_delay_days', 0)} working days later; "
                 f"counted_at: {change.get('counted_at') or change['at']}")
    return text


def summary(change: Mapping[str, Any], info: FeedInfo) -> str:
    """The entry text: the note (redacted here too — a feed is a publication) or the title,
    then both clocks (and, for a late report, by how much and which time the clock counts)."""
    head = redact_text(change.get("note")) or entry_title(change, info.lang, info.late_label)
    return head + "\n" + (info.clocks or iso_clocks)(change)


def clocks_data(change: Mapping[str, Any]) -> dict[str, Any]:
    """Both clocks as data (JSON Feed extension ``_pantau``)."""
    return {"at": str(change["at"]), "received_at": received(change),
            "counted_at": str(change.get("counted_at") or change["at"]),
            "late_reported": bool(change.get("late_reported")),
            "reporting_delay_days": int(change.get("reporting_delay_days") or 0),
            "reporting_tolerance_days": change.get("reporting_tolerance_days")}


def _updated(changes: Sequence[Mapping[str, Any]]) -> str:
    if not changes:
        return datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    return max(received(c) for c in changes)


def atom(info: FeedInfo, changes: Sequence[Mapping[str, Any]]) -> bytes:
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
        sub(entry, "title", entry_title(change, info.lang, info.late_label))
        sub(entry, "updated", received(change))
        sub(entry, "link", rel="alternate", href=case_url(info, change))
        sub(entry, "category", term=str(change["status"]))
        if change.get("late_reported"):
            sub(entry, "category", term=LATE_TERM, label=info.late_label)
        sub(entry, "summary", summary(change, info))
    return xml.document(feed)


def json_feed(info: FeedInfo, changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.home_url,
        "feed_url": info.feed_url,
        "language": info.lang,
        "items": [{
            "id": entry_id(change),
            "url": case_url(info, change),
            "title": entry_title(change, info.lang, info.late_label),
            "content_text": summary(change, info),
            "date_published": received(change),
            "tags": [str(change["status"]), str(change["jurisdiction_code"]),
                     str(change["department_code"]), str(change["service_code"])]
            + ([LATE_TERM] if change.get("late_reported") else []),
            "_pantau": clocks_data(change),
        } for change in changes],
    }
