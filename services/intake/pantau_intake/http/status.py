"""``GET /v1/events/{id}`` and ``GET /v1/refusals``: a department asks about its OWN events.

Signed exactly like ``POST /v1/events`` with scheme v2 (``pantau_contracts.signing``): method
``GET``, the path and query as on the request line, no Content-Type (an empty line), the SHA-256
of the empty body. The same ``Authenticator`` checks it (key, window, signature, replay); v1 is
refused (it would not cover the path). Another department's event is 404, exactly like an
unknown one, so ids cannot be probed. Each request takes one token of the department's rate
limit. Errors are problem+json like the rest of intake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from pantau_contracts.signing import V2
from pantau_intake.domain import problems
from pantau_intake.domain.authentication import Principal
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.http import docs

if TYPE_CHECKING:
    from pantau_intake.http.app import Wiring

SIGNED = {"security": [{"PantauKey": [], "PantauTimestamp": [], "PantauSignature": []}]}


def install(app: FastAPI, wired: Wiring, target_of: Any) -> None:
    """Add the two routes to ``app`` (``target_of(request)``: path and query as signed)."""

    @app.get("/v1/events/{event_id}", tags=["events"], summary="An event's fate",
             responses=docs.STATUS_RESPONSES, openapi_extra=SIGNED)
    async def event_status(event_id: str, request: Request) -> Any:
        """`received` | `accepted` | `applied` | `refused` (with `reason` and `detail`) of one
        of your events, by its CloudEvents `id`; see the description above."""
        principal = await _authenticate(wired, request, target_of(request))
        answer = await run_in_threadpool(_read, lambda: wired.status.status(
            principal.department, event_id))
        if answer is None:
            raise problems.event_not_found(event_id)
        return answer

    @app.get("/v1/refusals", tags=["events"], summary="Your refusals since a cursor",
             responses=docs.REFUSALS_RESPONSES, openapi_extra=SIGNED)
    async def refusals(request: Request, after: int = Query(0, ge=0, le=2**62),
                       limit: int = Query(100, ge=1, le=500)) -> Any:
        """Your department's refused events with a cursor greater than `after`, oldest first;
        pass `next` as `after` to continue (poll with the last `next`)."""
        principal = await _authenticate(wired, request, target_of(request))
        return await run_in_threadpool(_read, lambda: wired.status.refusals(
            principal.department, after, limit))


async def _authenticate(wired: Wiring, request: Request, target: str) -> Principal:
    headers = list(request.headers.items())

    def check() -> Principal:
        try:
            principal = wired.authenticator.authenticate(headers, b"", method=request.method,
                                                         target=target)
        except StoreUnavailable as exc:
            raise problems.unavailable("The intake database is not reachable.") from exc
        if principal.scheme != V2:
            raise problems.unauthenticated("GET requests must be signed with v2 (it covers "
                                           "the path and query)")
        wait = wired.limiter.take(principal.department, 1)
        if wait > 0:
            raise problems.rate_limited(wait)
        return principal

    return await run_in_threadpool(check)


def _read(read: Any) -> Any:
    try:
        return read()
    except StoreUnavailable as exc:
        raise problems.unavailable("The intake database is not reachable.") from exc
