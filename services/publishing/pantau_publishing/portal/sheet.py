"""The printable status sheet ``/kasus/{receipt}/cetak``, as a counter hands out with a receipt.

Contract: one A4/A5 page (``static/sheet.css``: print rules, no script) with a QR code as inline
SVG (``segno``, error correction M) that encodes the case page's absolute URL — built only from
``PANTAU_PUBLIC_BASE_URL`` (``settings.base_url``), never the Host header — and the receipt,
service, department, submitted date, legal maximum with its source and due date, in the
jurisdiction's zone. While the case is open it also carries the case's SKM survey code
(``domain.survey_code``); once the case is closed the sheet no longer shows it, so a code can
only be had by whoever printed the sheet while the file was in progress (docs/security.md).
Sheets count against the same per-client hourly limit as survey answers.
"""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from pantau_publishing.domain.survey_code import survey_code
from pantau_publishing.portal.case_view import ServiceStandards
from pantau_publishing.portal.citizen import legal_source, maximum_text
from pantau_publishing.portal.deps import base_url, records
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import language, render
from pantau_publishing.portal.survey import client_key, limiter

router = APIRouter(include_in_schema=False)
QR_SCALE = 4  # px per module: a version-4 code is 164 px, about 3.5 cm printed at 96 dpi


def case_url(request: Request, receipt: str) -> str:
    """The case page's absolute URL (``PANTAU_PUBLIC_BASE_URL``)."""
    return f"{base_url(request)}/kasus/{receipt}"


def qr_svg(url: str, title: str) -> Markup:
    """``url`` as an inline SVG QR code (no style attribute: the CSP forbids inline style)."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=QR_SCALE, title=title))  # noqa: S704 - segno's own SVG


@router.get("/kasus/{receipt_number}/cetak")
def status_sheet(request: Request, receipt_number: str) -> Response:
    if receipt_number != receipt_number.upper():
        return RedirectResponse(f"/kasus/{receipt_number.upper()}/cetak", status_code=301)
    lang = language(request)
    if not limiter(request, "sheets").allow(client_key(request)):
        response = render(request, "error.html", status_code=429,
                          title_key="bad_request_title",
                          message=translate(lang, "survey_too_many"), detail="")
        response.headers["Retry-After"] = str(limiter(request, "sheets").retry_after())
        return response
    case = records(request).case(receipt_number)
    shown = receipt_number.strip()[:60]
    if case is None:
        return render(request, "error.html", status_code=404, title_key="case_not_found_title",
                      message=translate(lang, "case_not_found_text", r=shown), detail="",
                      prefill=shown)
    found = getattr(request.app.state, "standards", None)
    standards = found if isinstance(found, ServiceStandards) else ServiceStandards(None)
    service = standards.standard_for(case)
    url = case_url(request, case.receipt_number)
    source = legal_source(service, lang)
    code = None if case.status.is_final or case.withdrawn else survey_code(
        request.app.state.settings.survey_key, case.receipt_number)
    return render(request, "sheet.html", case=case, url=url,
                  qr=qr_svg(url, translate(lang, "sheet_qr_label", url=url)),
                  maximum=maximum_text(case, service, lang), source=source,
                  survey_code=code)
