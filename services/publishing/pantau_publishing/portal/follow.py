"""Follow a case by e-mail: the portal's routes (no JavaScript, no session, no cookie needed).

* ``POST /kasus/{receipt}/ikuti`` (form ``email``) → the "check your inbox" page (202); a bad
  address re-shows the form with the error (422); a closed case 409; too many requests 429.
  ``POST /api/v1/cases/{receipt}/followers`` (JSON ``{"email": …}``) is the same for machines,
  answering problem+json.
* ``GET /ikuti/konfirmasi?token=`` shows a confirm button (a link scanner that GETs the link
  confirms nothing); ``POST /ikuti/konfirmasi`` (form ``token``) confirms.
* ``GET /ikuti/berhenti?token=`` shows an unsubscribe button; ``POST /ikuti/berhenti?token=`` —
  RFC 8058 one-click, what a mail client sends with ``List-Unsubscribe=One-Click`` — unsubscribes
  at once and answers 200 whatever the token (no oracle).

The answer to a request never says whether the address already follows the case. CSRF: these
forms need no session, so a cross-site POST can do only what anyone can: request a confirmation
mail (bounded by double opt-in and the rate limits), or use a token it already holds
(docs/security.md, "Following by e-mail"). The portal never talks SMTP: it writes the outbox,
the mailer sends. The address is never logged and never rendered back except on the form that
the citizen is typing into.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.portal.deps import records
from pantau_publishing.portal.errors import problem, problems
from pantau_publishing.portal.rendering import language, render
from pantau_publishing.service.follow import (
    CaseNotFollowable,
    FollowRequests,
    InvalidAddress,
    TooManyRequests,
)
from pantau_publishing.service.follow_mail import MailContext
from pantau_publishing.service.ports import FollowStore

router = APIRouter()
MAX_FORM = 4096  # bytes: an address and a token fit many times over
INVALID = {"id": "Alamat e-mail tidak valid. Tulis seperti nama@contoh.id.",
           "en": "That is not a valid e-mail address. Write it like name@example.id."}


def follow_requests(request: Request) -> FollowRequests:
    """The use case over the citizen store; built once per app (tests set ``app.state.follow``
    to one over a fake store)."""
    found = getattr(request.app.state, "follow", None)
    if isinstance(found, FollowRequests):
        return found
    from pantau_publishing.adapters.citizen_store import SqlFollowStore

    settings = request.app.state.settings
    settings.state_dir.mkdir(parents=True, exist_ok=True)  # the SQLite file (development)
    store: FollowStore = SqlFollowStore(settings.effective_citizen_url)
    made = FollowRequests(store, MailContext(settings.base_url, settings.mail_from))
    request.app.state.follow = made
    return made


async def form_fields(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, small, first value of each field."""
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def lookup(request: Request, receipt: str) -> PublicCaseV2 | None:
    found = records(request).case(receipt)
    return found if isinstance(found, PublicCaseV2) else None


def page(request: Request, state: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "follow.html", status_code=status_code, state=state, **context)


@router.post("/kasus/{receipt_number}/ikuti", include_in_schema=False)
async def follow_form(request: Request, receipt_number: str) -> Response:
    case = lookup(request, receipt_number.upper())
    if case is None:
        return page(request, "unknown", 404)
    fields = await form_fields(request)
    try:
        follow_requests(request).request(case, fields.get("email", ""), client_of(request),
                                         time.time())
    except InvalidAddress:
        lang = "en" if language(request) == "en" else "id"
        return page(request, "form", 422, case=case, error=INVALID[lang],
                    typed=fields.get("email", "")[:254])
    except CaseNotFollowable:
        return page(request, "closed", 409, case=case)
    except TooManyRequests as exc:
        response = page(request, "busy", 429, case=case)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return page(request, "sent", 202, case=case)


@router.post("/api/v1/cases/{receipt_number}/followers", status_code=202, tags=["follow"],
             summary="Follow a case by e-mail (double opt-in: a confirmation mail is sent)",
             responses=problems(404, 409, 422, 429, s409="The case is closed or withdrawn",
                                s429="Too many requests; see Retry-After"))
async def follow_api(request: Request, receipt_number: str) -> Response:
    """Body ``{"email": "name@example.id"}``. The answer is the same whether or not the address
    already follows the case."""
    instance = request.url.path
    try:
        body = json.loads((await request.body())[:MAX_FORM] or b"{}")
        raw = body.get("email", "") if isinstance(body, dict) else ""
    except ValueError:
        raw = ""
    case = lookup(request, receipt_number.upper())
    if case is None:
        return problem(404, "Not Found", f"no public case {receipt_number[:60]}",
                       instance=instance)
    try:
        follow_requests(request).request(case, str(raw), client_of(request), time.time())
    except InvalidAddress:
        return problem(422, "Invalid e-mail address", "email: not an e-mail address",
                       type_="https://pantau.id/problems/invalid-parameter", instance=instance,
                       errors=[{"field": "email", "problem": "not an e-mail address",
                                "expected": "name@example.id"}])
    except CaseNotFollowable:
        return problem(409, "Case closed", "a closed or withdrawn case cannot be followed",
                       instance=instance)
    except TooManyRequests as exc:
        response = problem(429, "Too Many Requests", "try again later", instance=instance)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return JSONResponse({"status": "confirmation-sent",
                         "detail": "If the address can receive mail, a confirmation link is on "
                                   "its way; nothing is sent before it is followed."},
                        status_code=202)


@router.get("/ikuti/konfirmasi", include_in_schema=False)
def confirm_page(request: Request, token: str = "") -> Response:
    follower = follow_requests(request).pending(token, time.time())
    if follower is None:
        return page(request, "expired", 404)
    return page(request, "confirm", receipt=follower.receipt_number, token=token)


@router.post("/ikuti/konfirmasi", include_in_schema=False)
async def confirm(request: Request) -> Response:
    token = (await form_fields(request)).get("token", "")
    use_case = follow_requests(request)
    follower = use_case.pending(token, time.time())
    case = lookup(request, follower.receipt_number) if follower else None
    if follower is None or case is None or not use_case.confirm(token, case, time.time()):
        return page(request, "expired", 404)
    return page(request, "confirmed", case=case)


@router.get("/ikuti/berhenti", include_in_schema=False)
def unsubscribe_page(request: Request, token: str = "") -> Response:
    return page(request, "unsubscribe", token=token)


@router.post("/ikuti/berhenti", include_in_schema=False)
def unsubscribe(request: Request, token: str = "") -> Response:
    """RFC 8058 one-click: the token is in the URL; the body (``List-Unsubscribe=One-Click``)
    is not needed. No confirmation, no cookie; the same answer for any token."""
    follow_requests(request).unsubscribe(token)
    return page(request, "unsubscribed")
