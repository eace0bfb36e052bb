"""HTML pages: search (home), case page, dashboards. Work fully without JavaScript."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from pantau_publishing.domain import stats as stats_rules
from pantau_publishing.domain.comparison import DEFAULT_DAYS, DEFAULT_MIN_CASES, Window
from pantau_publishing.domain.formatting import MONTHS, long_time
from pantau_publishing.domain.monthly import CSV_COLUMNS, Month, months
from pantau_publishing.domain.places import Place
from pantau_publishing.domain.query import FACETS, SORTS, looks_like_receipt
from pantau_publishing.domain.timeline import is_late, steps
from pantau_publishing.portal import citizen, places, survey
from pantau_publishing.portal.case_view import ServiceStandards, clock_summary, history_notice
from pantau_publishing.portal.charts import bars
from pantau_publishing.portal.clocks import late_report_notice
from pantau_publishing.portal.deps import base_url, case_query, records, url_with
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import language, render, status_label
from pantau_publishing.portal.transparency import check_history

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
                      case.jurisdiction_code, case.service_code) is not None,
                  # issue 9: what happens next, complaint route, status sheet, SKM survey
                  **citizen.case_blocks(request, case, service, lang),
                  **survey.case_block(request, case))


def standards(request: Request) -> ServiceStandards:
    """The service catalogue loaded by this process (see ``app.create_app``)."""
    found = getattr(request.app.state, "standards", None)
    return found if isinstance(found, ServiceStandards) else ServiceStandards(None)


@router.get("/cases/{receipt_number}")
def case_redirect(receipt_number: str) -> Response:
    return RedirectResponse(f"/kasus/{receipt_number.upper()}", status_code=301)


LEGACY_SCOPES = ("jurisdiction", "department", "service")
"""The first segment of old dashboard URLs (``/dasbor/department/dpmptsp``): a bare code."""
NEXT_LEVEL = {"": "jurisdiction", "jurisdiction": "department", "department": "service"}


def _with_query(request: Request, path: str) -> str:
    query = request.url.query
    return f"{path}?{query}" if query else path


def legacy_place(request: Request, scope: str, code: str, suffix: str = "") -> Response:
    """An old bare-code URL: 301 to the one place that has the code, or a page to choose from
    the jurisdictions that share it — never their sum."""
    if scope == "jurisdiction":
        return RedirectResponse(_with_query(request, f"/dasbor/{code}{suffix}"), 301)
    owners = places.resolve(request, scope, code)
    if not owners:
        raise HTTPException(404, f"no {scope} has the code {code!r}")
    if len(owners) == 1:
        return RedirectResponse(
            _with_query(request, places.dashboard_url(owners[0]) + suffix), 301)
    lang = language(request)
    choices = [{"name": places.place_name(request, p, lang),
                "url": places.dashboard_url(p) + suffix} for p in owners]
    # 300 Multiple Choices: the page lists them; browsers show it like any page
    return render(request, "choose.html", status_code=300, code=code,
                  what=translate(lang, scope).lower(), choices=choices)


def _place_or_404(request: Request, jurisdiction: str | None, department: str | None,
                  service: str | None) -> Place:
    place = Place(jurisdiction, department, service)
    if not places.known(request, place):
        raise HTTPException(404, "unknown jurisdiction, department or service")
    return place


@router.get("/dasbor/statistik.csv")
@router.get("/dasbor/{jurisdiction}/statistik.csv")
@router.get("/dasbor/{jurisdiction}/{department}/statistik.csv")
@router.get("/dasbor/{jurisdiction}/{department}/{service}/statistik.csv")
def monthly_csv(request: Request, jurisdiction: str | None = None,
                department: str | None = None, service: str | None = None) -> Response:
    """Monthly figures of a place as CSV (plain numbers; months in the jurisdiction's zone)."""
    if jurisdiction in LEGACY_SCOPES and department and not service:
        return legacy_place(request, jurisdiction, department, "/statistik.csv")
    place = _place_or_404(request, jurisdiction, department, service)
    zone = places.zone(request, place.jurisdiction)
    rows = records(request).monthly(place, months(places.now(request), zone), zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["jurisdiction", "department", "service", "time_zone", *CSV_COLUMNS])
    for row in rows:
        writer.writerow([place.jurisdiction or "", place.department or "", place.service or "",
                         zone, *row.csv_row()])
    name = "-".join(("pantau-statistik", *place.parts)) + ".csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/dasbor")
@router.get("/dasbor/{jurisdiction}")
@router.get("/dasbor/{jurisdiction}/{department}")
@router.get("/dasbor/{jurisdiction}/{department}/{service}")
def dashboard(request: Request, jurisdiction: str | None = None, department: str | None = None,
              service: str | None = None) -> Response:
    if jurisdiction in LEGACY_SCOPES and department and not service:
        return legacy_place(request, jurisdiction, department)
    place = _place_or_404(request, jurisdiction, department, service)
    board = records(request).dashboard(place)
    lang = language(request)
    group = stats_rules.BREAKDOWN[place.level]
    next_level = NEXT_LEVEL.get(place.level)
    what = translate(lang, {"jurisdiction_code": "jurisdiction", "department_code": "department",
                            "service_code": "service", "status": "status"}[group]).lower()
    rows = board.rows
    labels = [status_label(r.label, lang) if group == "status" else r.label_in(lang)
              for r in rows]
    links = [places.dashboard_url(Place(*place.parts, r.code)) if next_level else None
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
    zone = places.zone(request, place.jurisdiction)
    monthly = records(request).monthly(place, months(places.now(request), zone), zone)
    crumbs = [{"name": name, "url": places.dashboard_url(Place(*place.parts[:depth + 1]))}
              for depth, name in enumerate(places.names(request, place, lang))]
    case_filters = {"jurisdiction": place.jurisdiction, "department": place.department,
                    "service": place.service}
    return render(request, "dashboard.html", board=board, rows=rows, labels=labels, links=links,
                  chart=chart, chart_title=chart_title, backlog_chart=backlog_chart,
                  what=what, place=place, crumbs=crumbs, zone=zone,
                  monthly=monthly, monthly_charts=monthly_charts(monthly, lang),
                  month_labels=[month_label(m.month, lang) for m in monthly],
                  csv_url=(places.dashboard_url(place) + "/statistik.csv"),
                  compare_url=f"/perbandingan/{place.jurisdiction}" if place.jurisdiction
                  else "/perbandingan",
                  overdue_url=url_with("/", {k: v for k, v in case_filters.items() if v},
                                       overdue="true"),
                  late_url=url_with("/", {k: v for k, v in case_filters.items() if v},
                                    late_reported="true"),
                  scope_name=places.place_name(request, place, lang),
                  as_of=as_of_text(request, board.as_of, zone, lang),
                  ikm=survey.dashboard_summary(request, place, board.totals))


def as_of_text(request: Request, as_of: datetime | None, zone: str, lang: str) -> str | None:
    """"Figures as of …" when the dashboard's figures may come from the short cache."""
    seconds = int(getattr(request.app.state.settings, "dashboard_cache_seconds", 0) or 0)
    if as_of is None or seconds <= 0:
        return None
    return translate(lang, "as_of", time=long_time(as_of, zone, lang), seconds=seconds)


def month_label(month: str, lang: str) -> str:
    """``2026-03`` → ``Mar 2026``."""
    year, number = month.split("-")
    return f"{MONTHS.get(lang, MONTHS['id'])[int(number) - 1][:3]} {year}"


def monthly_charts(rows: list[Month], lang: str) -> list[tuple[str, Markup]]:
    """(heading, chart) for the monthly figures: counts, share within the maximum, median.
    The last two leave out months without completed cases (no data is not 0 % or 0 days;
    the table says "–" for them)."""
    labels = [month_label(m.month, lang) for m in rows]
    done = [m for m in rows if m.completed]
    done_labels = [month_label(m.month, lang) for m in done]
    counts = translate(lang, "monthly_counts")
    share = translate(lang, "monthly_share")
    median = translate(lang, "monthly_median")
    return [
        (counts, bars(counts, labels, [
            (translate(lang, "received"), [m.received for m in rows]),
            (translate(lang, "completed"), [m.completed for m in rows])])),
        (share, bars(share, done_labels, [(translate(lang, "sla_share"), [
            round(100 * (m.sla_share or 0)) for m in done])], unit="%", scale=100)),
        (median, bars(median, done_labels, [(translate(lang, "median"), [
            m.median_days or 0 for m in done])])),
    ]


@router.get("/umpan")
def feeds_page(request: Request) -> Response:
    """A page for people about the machine-readable feeds (an Atom link alone shows raw XML)."""
    lang = language(request)
    scopes = [{"level": level, "name": name, "depth": depth,
               "atom": places.feed_url(place, "atom"), "json": places.feed_url(place, "json"),
               "dashboard": places.dashboard_url(place)}
              for level, place, name, depth in places.feed_places(request, lang)]
    return render(request, "feeds.html", base=base_url(request), scopes=scopes)


TREND_ICONS = {"up": "▲", "down": "▼", "flat": "▶", "unknown": "–"}


def comparison_window(request: Request) -> tuple[Window, int]:
    """The period and the fair-volume threshold (``PANTAU_COMPARISON_DAYS`` / ``_MIN_CASES``)."""
    settings = request.app.state.settings
    return (Window(places.now(request), int(getattr(settings, "comparison_days", DEFAULT_DAYS))),
            int(getattr(settings, "comparison_min_cases", DEFAULT_MIN_CASES)))


@router.get("/perbandingan")
@router.get("/perbandingan/{jurisdiction}")
def comparison(request: Request, jurisdiction: str | None = None) -> Response:
    """Jurisdictions ranked (or the departments of one), with how the figures are computed."""
    if jurisdiction is not None:
        _place_or_404(request, jurisdiction, None, None)
    window, min_cases = comparison_window(request)
    entries = records(request).comparison(window, jurisdiction, min_cases)
    lang = language(request)
    zone = places.zone(request, jurisdiction)
    rows = [{"entry": e, "name": e.label_in(lang),
             "url": places.dashboard_url(Place(*(p for p in (jurisdiction, e.code) if p))),
             "departments": None if jurisdiction else f"/perbandingan/{e.code}",
             "trend_icon": TREND_ICONS[e.trend], "trend_text": translate(lang, f"trend_{e.trend}")}
            for e in entries]
    ranked = [r for r in rows if r["entry"].rank is not None]
    chart_title = translate(lang, "sla_share")
    chart = bars(chart_title, [f"{r['entry'].rank}. {r['name']}" for r in ranked], [
        (translate(lang, "sla_share"), [round(100 * (r["entry"].current.sla_share or 0))
                                        for r in ranked])], unit="%", scale=100)
    (start, end), (before, _) = window.current, window.previous
    return render(request, "comparison.html", rows=rows, chart=chart, chart_title=chart_title,
                  jurisdiction=jurisdiction, min_cases=min_cases, days=window.days,
                  scope_name=places.place_name(request, Place(jurisdiction), lang)
                  if jurisdiction else None,
                  period=translate(lang, "cmp_period", start=long_time(start, zone, lang),
                                   end=long_time(end, zone, lang),
                                   before=long_time(before, zone, lang)),
                  api_url="/api/v1/comparison" + (f"?jurisdiction={jurisdiction}"
                                                  if jurisdiction else ""))
