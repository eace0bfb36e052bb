"""The case page's citizen blocks (issue 9): *what happens next* and the *complaint route*.

Contract: ``case_blocks(request, case, service, lang)`` returns the template context
``{"next": NextView, "complaint": ComplaintView | None, "sheet_url": str}``.

* Which guidance applies is plain Python (``domain.guidance.next_step``); this module only
  writes it in the reader's language from ``citizen_texts.yaml``.
* Every legal figure comes from the catalogue: the service maximum and the source of its
  basis (``local`` / ``national`` / ``statutory-default``, labelled as the case page labels it:
  anything not local says "standar nasional"), and the jurisdiction's ``appeals`` (keberatan and
  banding windows with their citation; the national default ``NATIONAL_APPEALS`` when the
  jurisdiction is not in the loaded catalogue). When the case was opened under another catalogue
  version, the maximum is the one the case recorded, cited as such — never a guessed source.
* The complaint text is ``domain.complaint.compose`` over allowlisted facts, always in Bahasa
  Indonesia (the department reads it) and, on the English page, also in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from pantau_contracts.catalogue import NATIONAL_APPEALS, Appeals, Basis, ComplaintChannel, Service
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.complaint import LAPOR_URL, compose, facts_of
from pantau_publishing.domain.formatting import days, long_date
from pantau_publishing.domain.guidance import NextStep, next_step
from pantau_publishing.portal.case_view import ServiceStandards
from pantau_publishing.portal.deps import base_url
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import status_label


@dataclass(frozen=True)
class NextView:
    step: NextStep
    texts: tuple[str, ...]  # the guidance, paragraph by paragraph
    reason_label: str | None = None
    appeal: tuple[str, ...] = ()  # keberatan, banding, their legal basis
    basis: str | None = None  # the legal maximum and where it comes from


@dataclass(frozen=True)
class ComplaintView:
    intro: str
    channels: tuple[ComplaintChannel, ...]
    lapor_url: str
    text_id: str
    text_en: str | None = None
    own_label: str = ""
    none_text: str = ""


def _standards(request: Request) -> ServiceStandards:
    found = getattr(request.app.state, "standards", None)
    return found if isinstance(found, ServiceStandards) else ServiceStandards(None)


def maximum_text(case: PublicCaseV2, service: Service | None, lang: str) -> str:
    """``28 hari kerja`` / ``24 jam`` (the law's unit when the catalogue states hours)."""
    if service is not None and service.max_duration is not None and \
            service.max_duration.unit == "hours" and \
            service.max_working_days == case.max_working_days:
        return translate(lang, "hours", n=service.max_duration.value)
    key = "working_day_one" if case.max_working_days == 1 else "working_days"
    return translate(lang, key, n=case.max_working_days)


def legal_source(service: Service | None, lang: str) -> tuple[str, str] | None:
    """(source label, citation) of the service maximum, or None when not known for this case."""
    basis: Basis | None = service.basis.max if service and service.basis else None
    if basis is None:
        return None
    return translate(lang, f"source_{basis.source}"), basis.citation


def _appeals(request: Request, case: PublicCaseV2) -> Appeals:
    catalogue = _standards(request).catalogue
    jurisdiction = catalogue.jurisdiction(case.jurisdiction_code) if catalogue else None
    return jurisdiction.appeals if jurisdiction else NATIONAL_APPEALS


def _channels(request: Request, case: PublicCaseV2) -> tuple[ComplaintChannel, ...]:
    catalogue = _standards(request).catalogue
    department = catalogue.department(case.jurisdiction_code, case.department_code) \
        if catalogue else None
    return department.complaints if department else ()


def _basis_line(case: PublicCaseV2, service: Service | None, lang: str) -> str:
    maximum = maximum_text(case, service, lang)
    source = legal_source(service, lang)
    if source is None:
        return translate(lang, "next_maximum_basis", maximum=maximum,
                         source=translate(lang, "next_maximum_recorded"),
                         citation=case.catalogue_version)
    return translate(lang, "next_maximum_basis", maximum=maximum, source=source[0],
                     citation=source[1])


def _appeal_texts(request: Request, case: PublicCaseV2, dept: str,
                  lang: str) -> tuple[str, ...]:
    rules = _appeals(request, case)
    keberatan, banding = rules.keberatan, rules.banding
    texts = [translate(lang, "next_keberatan", dept=dept,
                       file=keberatan.file_within_working_days,
                       decide=keberatan.decide_within_working_days,
                       implement=keberatan.implement_within_working_days),
             translate(lang, "next_banding", file=banding.file_within_working_days,
                       decide=banding.decide_within_working_days)]
    for rule in (keberatan, banding):
        texts.append(translate(lang, "next_basis", citation=rule.basis.citation,
                               source=translate(lang, f"source_{rule.basis.source}")))
    return tuple(texts)


def next_view(request: Request, case: PublicCaseV2, service: Service | None,
              lang: str) -> NextView:
    """What happens next, written out for ``case``."""
    step = next_step(case)
    dept = case.department_name.en if lang == "en" else case.department_name.id
    values = {"dept": dept, "receipt": case.receipt_number,
              "due": long_date(case.due_date, lang) if case.due_date else "–",
              "maximum": maximum_text(case, service, lang)}
    situation = step.situation
    if situation == "returned":
        texts = [translate(lang, "next_returned", **values)]
        if step.reason is None:
            texts.append(translate(lang, "next_returned_no_reason", **values))
        texts.append(translate(lang, "next_returned_do", **values))
        return NextView(step, tuple(texts), translate(lang, "next_returned_reason", **values))
    if situation == "rejected":
        texts = [translate(lang, "next_rejected", **values)]
        if step.reason is None:
            texts.append(translate(lang, "next_rejected_no_reason", **values))
        return NextView(step, tuple(texts), translate(lang, "next_rejected_reason", **values),
                        appeal=_appeal_texts(request, case, dept, lang))
    texts = [translate(lang, f"next_{situation}", **values)]
    late = situation in ("overdue", "completed_late")
    return NextView(step, tuple(texts), basis=_basis_line(case, service, lang) if late else None)


def complaint_view(request: Request, case: PublicCaseV2, service: Service | None,
                   lang: str) -> ComplaintView | None:
    """The complaint route, on late, returned and rejected cases only."""
    if not next_step(case).complaint_route:
        return None
    url = f"{base_url(request)}/kasus/{case.receipt_number}"

    def text(in_lang: str) -> str:
        source = legal_source(service, in_lang)
        cited = f"{source[0]}: {source[1]}" if source else \
            f"{translate(in_lang, 'next_maximum_recorded')}, {case.catalogue_version}"
        facts = facts_of(case, in_lang, status=status_label(case.status.value, in_lang),
                         maximum=maximum_text(case, service, in_lang), legal_source=cited,
                         elapsed=days(case.working_days_elapsed, in_lang),
                         due=long_date(case.due_date, in_lang) if case.due_date else "–",
                         url=url)
        return compose(translate(in_lang, "complaint_text"), facts)

    dept = case.department_name.en if lang == "en" else case.department_name.id
    return ComplaintView(intro=translate(lang, "complaint_intro", dept=dept),
                         channels=_channels(request, case), lapor_url=LAPOR_URL,
                         text_id=text("id"), text_en=text("en") if lang == "en" else None,
                         own_label=translate(lang, "complaint_own", dept=dept),
                         none_text=translate(lang, "complaint_none", dept=dept))


def case_blocks(request: Request, case: PublicCaseV2, service: Service | None,
                lang: str) -> dict[str, Any]:
    """The template context of the citizen blocks of the case page."""
    return {"next": next_view(request, case, service, lang),
            "complaint": complaint_view(request, case, service, lang),
            "sheet_url": f"/kasus/{case.receipt_number}/cetak"}
