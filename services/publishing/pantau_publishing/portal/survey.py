"""The SKM survey at the HTTP edge: the form on a closed case's page, ``POST /kasus/{receipt}/
survei`` (a plain HTML form, no JavaScript), per-client rate limits, and the IKM block of a
service's dashboard.

Contract:

* The answer is checked by ``service.survey.SurveyDesk`` (closed case, the sheet's code, nine
  scores 1–4, one per receipt) and stored in the citizen store (``PANTAU_CITIZEN_DATABASE_URL``,
  ``adapters.survey_store``), opened at first use; tests put their own store on
  ``app.state.survey_store``.
* Rate limits: at most ``PANTAU_SURVEY_POSTS_PER_HOUR`` posts (answered or not) and as many
  status sheets per client address per hour, per process (``SlidingWindow``; the address is held
  in memory for that hour only, never stored). Past it: 429 with ``Retry-After``.
* Answers: 200 accepted, 403 wrong code, 409 answered already or case still open, 422 an
  incomplete form, 429, 503 store away — each a page in the reader's language.
* ``dashboard_summary``: the IKM of a *service* place (``domain.skm.summary``), with responses
  ÷ closed cases; below ``PANTAU_SURVEY_MIN_RESPONSES`` answers only the count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import skm
from pantau_publishing.domain.guidance import next_step
from pantau_publishing.domain.places import Place
from pantau_publishing.domain.stats import Stats
from pantau_publishing.portal.deps import records
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.rendering import language, render
from pantau_publishing.service.ports import SurveyResponses, SurveyUnavailable
from pantau_publishing.service.survey import SurveyDesk

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 4096
WINDOW_SECONDS = 3600.0
MAX_TRACKED_CLIENTS = 100_000  # memory bound: past it the oldest windows are dropped
STATUS_CODES = {"accepted": 200, "bad-code": 403, "duplicate": 409, "not-closed": 409,
                "invalid": 422}
MESSAGES = {"accepted": "survey_done", "bad-code": "survey_bad_code",
            "duplicate": "survey_already", "not-closed": "survey_not_closed",
            "invalid": "survey_invalid"}


class SlidingWindow:
    """At most ``limit`` events per ``key`` in the last ``window`` seconds (per process)."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False (and not counted) when it is over the limit."""
        now = self._clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self._window:
                times.popleft()
            if len(times) >= self._limit:
                return False
            times.append(now)
            if len(self._seen) > MAX_TRACKED_CLIENTS:
                self._seen.pop(next(iter(self._seen)))
            return True

    def retry_after(self) -> int:
        return int(self._window)


def limiter(request: Request, name: str) -> SlidingWindow:
    """The process's limiter ``name`` (``posts`` or ``sheets``), made on first use."""
    state = request.app.state
    found = getattr(state, f"survey_{name}_limit", None)
    if found is None:
        found = SlidingWindow(max(1, int(request.app.state.settings.survey_posts_per_hour)))
        setattr(state, f"survey_{name}_limit", found)
    return found


def client_key(request: Request) -> str:
    """The client's address as uvicorn resolved it (its proxy-header rules decide)."""
    return request.client.host if request.client else "unknown"


def store(request: Request) -> SurveyResponses:
    found = getattr(request.app.state, "survey_store", None)
    if found is None:
        from pantau_publishing.adapters.survey_store import SqlSurveyStore

        found = SqlSurveyStore(request.app.state.settings.effective_citizen_url)
        request.app.state.survey_store = found
    return found


def desk(request: Request) -> SurveyDesk:
    return SurveyDesk(store(request), request.app.state.settings.survey_key)


def case_block(request: Request, case: PublicCaseV2) -> dict[str, Any]:
    """The case page's survey context: offered on closed cases; ``answered`` when stored."""
    if not next_step(case).survey:
        return {"survey": None}
    try:
        answered = desk(request).answered(case.receipt_number)
    except SurveyUnavailable:
        answered = False  # the form still shows; a post then answers 503
    return {"survey": {"answered": answered, "action": f"/kasus/{case.receipt_number}/survei",
                       "fields": skm.FIELDS, "scores": skm.SCORES}}


@router.post("/kasus/{receipt_number}/survei")
async def answer(request: Request, receipt_number: str) -> Response:
    if receipt_number != receipt_number.upper():
        return RedirectResponse(f"/kasus/{receipt_number.upper()}", status_code=303)
    if not limiter(request, "posts").allow(client_key(request)):
        return _result(request, receipt_number, "survey_too_many", 429,
                       {"Retry-After": str(limiter(request, "posts").retry_after())})
    body = await _bounded_body(request)
    case = records(request).case(receipt_number)
    if case is None or body is None:
        return _result(request, receipt_number, "case_not_found_title" if case is None
                       else "survey_invalid", 404 if case is None else 413)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                         max_num_fields=20).items()}
    today = datetime.now(UTC).astimezone(ZoneInfo(case.timezone)).date()
    try:
        outcome = desk(request).submit(case, form.get("code", ""), form, today)
    except SurveyUnavailable:
        return _result(request, receipt_number, "survey_unavailable", 503,
                       {"Retry-After": "60"})
    return _result(request, receipt_number, MESSAGES[outcome.status],
                   STATUS_CODES[outcome.status])


async def _bounded_body(request: Request) -> bytes | None:
    """The form body, or None past ``MAX_FORM_BYTES`` (a form of nine radios is tiny)."""
    collected = b""
    async for chunk in request.stream():
        collected += chunk
        if len(collected) > MAX_FORM_BYTES:
            return None
    return collected


def _result(request: Request, receipt: str, key: str, status: int,
            headers: dict[str, str] | None = None) -> Response:
    shown = receipt.strip()[:60]
    response = render(request, "survey_result.html", status_code=status, receipt=shown,
                      message=translate(language(request), key), ok=status == 200)
    response.headers.update(headers or {})
    return response


def dashboard_summary(request: Request, place: Place, totals: Stats) -> skm.Summary | None:
    """The IKM block of a service's dashboard (None above service level or store away)."""
    if place.level != "service" or not (place.jurisdiction and place.department and
                                        place.service):
        return None
    settings = request.app.state.settings
    try:
        return desk(request).dashboard(place.jurisdiction, place.department, place.service,
                                       closed=max(totals.received - totals.open, 0),
                                       min_responses=int(settings.survey_min_responses))
    except SurveyUnavailable:
        return None
