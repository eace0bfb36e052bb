"""HTML pages: search (home), case page, dashboards. Work fully without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from pantau_publishing.domain import stats as stats_rules
from pantau_publishing.domain.query import FACETS, SORTS, looks_like_receipt
from pantau_publishing.domain.timeline import is_late, steps
from pantau_publishing.portal.case_view import ServiceStandards, clock_summary, history_notice
from pantau_publishing.portal.charts import bars
from pantau_publishing.portal.clocks import late_report_notice
from pantau_publishing.portal.deps import base_url, case_query, records, url_with
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import language, render, status_label
from pantau_publishing.portal.transparency import check_history
from pantau_publishing.service.records import UnknownScope

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    query = case_query(request)
    if query.q and looks_like_receipt(query.q):
        receipt = query.q.strip().upper()
        if records(request).case(receipt) is not None:
            return RedirectResponse(f"/kasus/{receipt}", status_code=303)
    if not query.filters():
        return render(request, "home.html", changes=records(request).changes(limit=8))
    result = records(request).search(query)
    params = query.filters()
    lang = language(request)
    facet_links = {
        name: [{"label": _facet_label(name, b.value, b.label_in(lang), lang), "count": b.count,
                "url": url_with("/", params, page=None,  # an active value's link removes it
                                **{name: None if params.get(name) == b.value else b.value}),
                "active": params.get(name) == b.value} for b in buckets]
        for name, buckets in result.facets.items()}
    pager = {
        "prev": url_with("/", params, page=str(query.page - 1)) if query.page > 1 else None,
        "next": url_with("/", params, page=str(query.page + 1))
        if query.page < result.pages else None,
    }
    active = [{"name": name, "value": params[name], "remove": url_with("/", params, **{name: None}),
               "label": _active_label(name, params[name], facet_links.get(name, []), lang)}
              for name in FACETS if name in params]
    download = {fmt: url_with(f"/export/cases.{fmt}", params, page=None, sort=None)
                for fmt in ("csv", "ndjson")}
    return render(request, "results.html", result=result, query=query, params=params,
                  download=download,
                  facets=facet_links, pager=pager, active=active, sorts=list(SORTS),
                  late=is_late)


def _active_label(name: str, value: str, buckets: list[dict[str, object]], lang: str) -> str:
    """An active filter is shown by the same name as in its facet list, not by its code."""
    for bucket in buckets:
        if bucket["active"]:
            return str(bucket["label"])
    return _facet_label(name, value, value, lang)


def _facet_label(name: str, value: str, label: str, lang: str) -> str:
    if name == "status":
        return status_label(value, lang)
    if name in ("overdue", "late_reported"):
        return translate(lang, "yes" if value == "true" else "no")
    return label


@router.get("/kasus/{receipt_number}")
def case_page(request: Request, receipt_number: str) -> Response:
    if receipt_number != receipt_number.upper():
        return RedirectResponse(f"/kasus/{receipt_number.upper()}", status_code=301)
    case = records(request).case(receipt_number)
    shown = receipt_number.strip()[:60]  # echoed back, but not a page-long paste
    if case is None:  # the citizen may have mistyped it, or it is not published yet: say both
        return render(request, "error.html", status_code=404, title_key="case_not_found_title",
                      message=translate(language(request), "case_not_found_text",
                                        r=shown), detail="", prefill=shown)
    lang = language(request)
    catalogue = standards(request)
    service = catalogue.standard_for(case)  # None when the catalogue moved on since opening
    return render(request, "case.html", case=case, steps=steps(case), late=is_late(case),
                  clock=clock_summary(case, lang), service=service,
                  late_report=late_report_notice(case, lang),
                  # Checked on every view: the page says "verified" only when it is.
                  history=history_notice(check_history(request.app.state.transparency, case),
                                         lang),
                  opened_version=case.catalogue_version.rpartition("@")[2],
                  other_standard=service is None and catalogue.service(
                      case.jurisdiction_code, case.service_code) is not None)


def standards(request: Request) -> ServiceStandards:
    """The service catalogue loaded by this process (see ``app.create_app``)."""
    found = getattr(request.app.state, "standards", None)
    return found if isinstance(found, ServiceStandards) else ServiceStandards(None)


@router.get("/cases/{receipt_number}")
def case_redirect(receipt_number: str) -> Response:
    return RedirectResponse(f"/kasus/{receipt_number.upper()}", status_code=301)


@router.get("/dasbor")
@router.get("/dasbor/{scope}/{code}")
def dashboard(request: Request, scope: str | None = None, code: str | None = None) -> Response:
    try:
        board = records(request).dashboard(scope, code)
    except UnknownScope:
        raise HTTPException(404, "unknown dashboard scope") from None
    lang = language(request)
    group = stats_rules.BREAKDOWN[scope or ""]
    next_scope = {"jurisdiction_code": "jurisdiction", "department_code": "department",
                  "service_code": "service"}.get(group)
    what = translate(lang, {"jurisdiction_code": "jurisdiction", "department_code": "department",
                            "service_code": "service", "status": "status"}[group]).lower()
    rows = board.rows
    labels = [status_label(r.label, lang) if group == "status" else r.label_in(lang)
              for r in rows]
    if group == "status":  # one service: how many cases sit in each status (one series)
        chart_title = translate(lang, "chart_status")
        chart = bars(chart_title, labels, [
            (translate(lang, "cases"), [r.stats.received for r in rows])])
    else:
        chart_title = translate(lang, "chart_completed", what=what)
        chart = bars(chart_title, labels, [
            (translate(lang, "received"), [r.stats.received for r in rows]),
            (translate(lang, "completed"), [r.stats.completed for r in rows])])
    backlog_chart = bars(translate(lang, "backlog"), [k for k, _v in board.totals.backlog], [
        (translate(lang, "open"), [v for _k, v in board.totals.backlog])])
    return render(request, "dashboard.html", board=board, rows=rows, labels=labels,
                  chart=chart, chart_title=chart_title, backlog_chart=backlog_chart,
                  next_scope=next_scope,
                  what=what, scope=scope, code=code,
                  scope_name=standards(request).scope_name(scope, code, lang) or code)


@router.get("/umpan")
def feeds_page(request: Request) -> Response:
    """A page for people about the machine-readable feeds (an Atom link alone shows raw XML)."""
    return render(request, "feeds.html", base=base_url(request),
                  scopes=standards(request).feed_scopes(language(request)))
