"""Jinja2 rendering with the language of the request (``?lang=`` wins and is remembered in a
cookie; Bahasa Indonesia by default)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pantau_contracts.vocabulary import STATUS_LABELS, PublicStatus
from pantau_publishing.domain.formatting import days, long_date, long_time, percent, rupiah
from pantau_publishing.portal.case_view import status_icon, step_icon
from pantau_publishing.portal.clocks import reported_later
from pantau_publishing.portal.deps import local_path
from pantau_publishing.portal.i18n import LANGUAGES, pick_language, translate
from pantau_publishing.portal.meta import describe

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LANG_COOKIE = "lang"


def language(request: Request) -> str:
    return str(pick_language(request.query_params.get("lang"),
                             request.cookies.get(LANG_COOKIE)))


def status_label(status: str, lang: str) -> str:
    try:
        return str(STATUS_LABELS[PublicStatus(status)][lang])
    except ValueError:
        return status


def other_language_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "id" else "id"
    return f"{local_path(request.url.path)}?{urlencode(params)}"  # never //host/…


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = language(request)

    def t(key: str, **values: object) -> str:
        if key == "working_days" and str(values.get("n")) == "1":  # English singular
            key = "working_day_one"
        return translate(lang, key, **values)

    def fmt_days(value: float | None) -> str:
        return days(value, lang)

    def when(moment: datetime | str, timezone: str) -> str:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return long_time(moment, timezone, lang)

    response = templates.TemplateResponse(request, template, {
        "lang": lang, "t": t, "status_label": status_label,
        "when": when, "day": lambda d: long_date(d, lang), "icon": status_icon,
        "step_icon": step_icon,
        "rupiah": lambda amount: rupiah(amount, lang), "bi": lambda b: b.en if lang == "en"
        else b.id,
        "fmt_days": fmt_days, "reported_later": lambda n: reported_later(n, lang),
        "pct": percent,
        "switch_url": other_language_url(request, lang),
        "meta_description": describe(template, lang, context), **context,
    }, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    response.headers["Content-Language"] = lang
    return response


def render_error(request: Request, status_code: int, detail: str = "") -> HTMLResponse:
    title_key = "not_found_title" if status_code == 404 else "bad_request_title"
    return render(request, "error.html", status_code=status_code, title_key=title_key,
                  detail="" if status_code == 404 else detail)
