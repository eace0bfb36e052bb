"""The ready complaint text of a case: built from allowlisted public facts only.

Contract: ``facts_of(case, lang, ...)`` copies exactly the fields listed in ``ComplaintFacts``
out of the public record (receipt, service, department, jurisdiction) plus what the portal
writes from the record and the catalogue: the status label, the legal maximum (``28 hari kerja``,
``24 jam``) with the citation of its source, the days elapsed, the due date and the case page's
public URL. ``compose(template, facts)`` fills a text template (from the portal's
texts, per language) with those facts and nothing else: a template naming any other field raises
``KeyError`` (so a template cannot pull in a note, the kecamatan or anything added to the record
later). No personal data can enter: the public record has none, and notes — the only free text a
department writes — are not among the facts (tested with generated personal data).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pantau_contracts.payloads.public import PublicCaseV2

LAPOR_URL = "https://www.lapor.go.id"
"""SP4N-LAPOR!, the national complaint channel (``pantau_contracts.catalogue.LAPOR``)."""


@dataclass(frozen=True)
class ComplaintFacts:
    """Everything a complaint text may cite (all public)."""

    receipt: str
    service: str
    department: str
    jurisdiction: str
    status: str
    maximum: str
    legal_source: str
    elapsed: str
    due: str
    url: str


def facts_of(case: PublicCaseV2, lang: str, *, status: str, maximum: str, legal_source: str,
             elapsed: str, due: str, url: str) -> ComplaintFacts:
    """The facts of ``case`` in ``lang`` (names in that language; dates written by the caller)."""
    def name(bilingual: object) -> str:
        return str(getattr(bilingual, "en" if lang == "en" else "id"))

    return ComplaintFacts(receipt=case.receipt_number, service=name(case.service_name),
                          department=name(case.department_name),
                          jurisdiction=case.jurisdiction_name, status=status,
                          maximum=maximum, legal_source=legal_source, elapsed=elapsed, due=due,
                          url=url)


def compose(template: str, facts: ComplaintFacts) -> str:
    """``template`` filled with ``facts`` only (``str.format_map`` over the facts' fields)."""
    return template.format_map(asdict(facts))
