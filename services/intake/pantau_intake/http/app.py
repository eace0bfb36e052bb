"""The FastAPI application. Routes are thin: read the body, call the domain/service, map results.

Order of checks for ``POST /v1/events`` (each failure is a problem+json answer):
declared size (``Content-Length``, 413) → authentication of the headers — key, timestamp window,
signature scheme — (401) *before a byte of the body is read* → the body, read up to the limit
(413 while streaming) → signature over the body and replay (401/409) → content type and JSON
(415/400) → rate limit (429) →
contract — ``pantaureceived`` set by the sender, a ``time`` in the future — and authorisation
— source, receipt prefix, service — (422/403/409) → broker confirm (503) → 202. The shared
intake database (replay check, accepted events) being unreachable is a 503 too (nothing
accepted). Accepted events are forwarded stamped with ``pantaureceived`` (the request's received
time). A request authenticated with the deprecated signature scheme v1 is answered with a
``Deprecation`` header (RFC 9745).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pantau_contracts import FieldProblem, ValidatedEvent
from pantau_contracts.signing import V1
from pantau_intake.domain import problems
from pantau_intake.domain.authentication import Principal
from pantau_intake.domain.problems import Problem
from pantau_intake.domain.rate_limit import Limits, RateLimiter
from pantau_intake.domain.store import StoreUnavailable
from pantau_intake.domain.timing import ReceivedClock, utc_now
from pantau_intake.http import docs, metrics, status
from pantau_intake.http.parsing import is_batch, parse
from pantau_intake.service.acceptance import AcceptanceService, ForwardError, RequestAnswer
from pantau_intake.service.authentication import Admission, Authenticator
from pantau_intake.service.event_status import EventStatusService, NothingKnown
from pantau_intake.service.ports import (
    AcceptedEvents,
    Forwarder,
    KeyResolver,
    ServiceDirectory,
    SignatureLedger,
)
from pantau_intake.settings import IntakeSettings
from pantau_platform import apidocs, tracing
from pantau_platform import problems as problems_http
from pantau_platform.metrics import instrument
from pantau_platform.problems import problem_response

log = logging.getLogger(__name__)


@dataclass
class Wiring:
    """The ports the app runs on. ``create_app`` builds real ones unless given."""

    authenticator: Authenticator
    limiter: RateLimiter
    acceptance: AcceptanceService
    ready: Callable[[], bool]
    """Readiness of the broker (a confirm channel can be opened)."""
    close: Callable[[], None]
    database_ready: Callable[[], bool] = lambda: True
    """Readiness of intake's database (replay and idempotency state, keys)."""
    status: EventStatusService = field(
        default_factory=lambda: EventStatusService(NothingKnown(), NothingKnown()))
    """The event status API's reads (``GET /v1/events/{id}``, ``/v1/refusals``)."""

    def waiting_for(self) -> list[str]:
        """The dependencies that do not answer now (``/readyz``)."""
        checks = (("broker", self.ready), ("database", self.database_ready))
        return [name for name, check in checks if not _answers(check)]


def _answers(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - a failing check is a "no"
        return False


def build_wiring(settings: IntakeSettings, *, keys: KeyResolver | None = None,
                 directory: ServiceDirectory | None = None,
                 forwarder: Forwarder | None = None,
                 ready: Callable[[], bool] | None = None,
                 clock: Callable[[], float] | None = None,
                 seen: SignatureLedger | None = None,
                 accepted: AcceptedEvents | None = None,
                 received_clock: ReceivedClock | None = None,
                 database_ready: Callable[[], bool] | None = None,
                 status: EventStatusService | None = None) -> Wiring:
    """Real adapters for whatever was not injected (SQL key store, catalogue, RabbitMQ).

    ``clock`` (unix seconds) drives the signature window and the ledgers; ``received_clock``
    (aware UTC datetime, default the real one) is the moment stamped as ``pantaureceived`` and
    the reference of the future-``time`` rule.

    With the real key store, the replay check (``seen``) and the idempotency memory
    (``accepted``) live in the same database, shared by every replica; with injected ``keys``
    (unit tests) they default to per-process memory.
    """
    closers: list[Callable[[], None]] = []
    rates: Limits | None = None  # each department's own rate: from the key store, else defaults
    if keys is None:
        from pantau_intake.adapters.accepted_events import SqlAcceptedEvents
        from pantau_intake.adapters.credential_store import (
            CachedRates,
            CachingKeyResolver,
            CredentialStore,
        )
        from pantau_intake.adapters.secretbox import SecretBox
        from pantau_intake.adapters.seen_signatures import SqlSeenSignatures
        from pantau_intake.adapters.sql import ledger_engine_for, ping

        store = CredentialStore(settings.credentials_database_url,
                                SecretBox(settings.intake_master_key))
        closers.append(store.dispose)
        keys = CachingKeyResolver(store, settings.intake_key_cache_seconds)
        rates = CachedRates(store)
        ledgers = ledger_engine_for(settings.credentials_database_url)
        closers.append(ledgers.dispose)
        database_ready = database_ready or (lambda: ping(ledgers))
        seen = seen or SqlSeenSignatures(ledgers, float(settings.intake_replay_window_seconds))
        accepted = accepted or SqlAcceptedEvents(
            ledgers, keep=float(settings.intake_idempotency_seconds), clock=clock or time.time)
        if status is None and isinstance(accepted, SqlAcceptedEvents):
            from pantau_intake.adapters.outcome_store import SqlOutcomeStore

            outcomes = SqlOutcomeStore(settings.credentials_database_url)
            closers.append(outcomes.dispose)
            status = EventStatusService(outcomes, accepted)
    if directory is None:
        from pantau_intake.adapters.directory import CatalogueDirectory

        directory = CatalogueDirectory()
    if forwarder is None:
        from pantau_intake.adapters.forwarder import AmqpForwarder
        from pantau_platform.amqp import GroupedPublisher

        # concurrent requests' events share one channel and one confirm wait per group
        publisher = GroupedPublisher(settings.service_amqp_url("intake"))
        closers.append(publisher.close)
        forwarder = AmqpForwarder(publisher)
        ready = ready or publisher.check
    auth_kwargs: dict[str, Any] = {"window": float(settings.intake_replay_window_seconds),
                                   "seen": seen,
                                   "accept_v1": settings.intake_accept_v1_signatures}
    if clock is not None:
        auth_kwargs["clock"] = clock
    return Wiring(
        authenticator=Authenticator(keys, **auth_kwargs),
        limiter=build_limiter(settings, rates),
        acceptance=AcceptanceService(
            directory, forwarder, accepted, clock=received_clock or utc_now,
            max_future_skew=float(settings.intake_max_future_skew_seconds)),
        ready=ready or (lambda: True),
        close=lambda: _close_all(closers),
        database_ready=database_ready or (lambda: True),
        status=status or EventStatusService(NothingKnown(), NothingKnown()),
    )


def build_limiter(settings: IntakeSettings, rates: Limits | None = None) -> RateLimiter:
    """Per-department ceilings (``rates``: each one's own setting) and fair shares of the
    process's capacity (``domain.rate_limit``)."""
    return RateLimiter(settings.intake_rate_per_second, settings.intake_rate_burst,
                       capacity=settings.intake_rate_capacity_per_second,
                       capacity_burst=settings.intake_rate_capacity_burst, limits=rates)


def _close_all(closers: list[Callable[[], None]]) -> None:
    for close in closers:
        close()


def create_app(settings: IntakeSettings | None = None, *, wiring: Wiring | None = None,
               **ports: Any) -> FastAPI:
    """Build the app. ``ports`` (keys, directory, forwarder, ready, clock, seen, accepted,
    received_clock, database_ready, status) override adapters."""
    settings = settings or IntakeSettings()
    wired = wiring or build_wiring(settings, **ports)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        wired.close()

    app = FastAPI(title="Pantau intake", version="1.0", description=docs.DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  telemetry=tracing.FASTAPI_TELEMETRY_OFF)  # traced by instrument_fastapi only
    apidocs.install(app, "/docs")  # Swagger UI from Pantau itself: works offline, no CDN
    instrument(app)  # HTTP RED per route; served on PANTAU_INTAKE_METRICS_PORT, not here
    tracing.instrument_fastapi(app)  # server spans; the forwarder continues them
    app.state.wiring = wired
    _install_error_handlers(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"],
             summary="Readiness: the broker and intake's database answer",
             responses={503: docs.RESPONSES[503]})
    async def readyz(request: Request) -> Any:
        """200 ``{"status": "ready"}``, or a 503 problem ``degraded: waiting for broker,
        database`` naming what does not answer (``waiting_for`` lists them)."""
        waiting = await run_in_threadpool(wired.waiting_for)
        if not waiting:
            return {"status": "ready"}
        return problem_response(problems.degraded(waiting), request.url.path)

    @app.post("/v1/events", status_code=202, tags=["events"], summary="Send case events",
              responses=docs.RESPONSES,
              openapi_extra={"requestBody": docs.request_body(),
                             "security": [{"PantauKey": [], "PantauTimestamp": [],
                                           "PantauSignature": []}]})
    async def post_events(request: Request) -> Any:
        """Send one event (structured or binary mode) or a batch. See the description above."""
        content_type = request.headers.get("content-type")
        limit = (settings.intake_max_batch_bytes if is_batch(content_type)
                 else settings.intake_max_event_bytes)
        _check_declared_size(request, limit)
        admission = await run_in_threadpool(_admit, wired, list(request.headers.items()),
                                            request.method, _request_target(request))
        body = await _read_limited(request, limit)
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(_handle, wired, settings, headers, content_type, body,
                                       admission, request.url.path)

    status.install(app, wired, _request_target)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = docs.SECURITY_SCHEMES
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _check_declared_size(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise problems.too_large(limit, "body (bytes)")


def _request_target(request: Request) -> str:
    """Path and query exactly as on the request line (what a v2 signature covers)."""
    raw = request.scope.get("raw_path") or request.url.path.encode("ascii", "replace")
    query = request.scope.get("query_string") or b""
    target = raw + (b"?" + query if query else b"")
    return str(target.decode("latin-1"))


def _admit(wired: Wiring, headers: list[tuple[str, str]], method: str,
           target: str) -> Admission:
    """The header checks of authentication, before the body is read (401, or 503)."""
    try:
        return wired.authenticator.admit(headers, method=method, target=target)
    except StoreUnavailable as exc:
        log.warning("intake store unavailable: %s", exc)
        raise problems.unavailable("The intake database is not reachable; nothing was "
                                   "accepted.") from exc


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise problems.too_large(limit, "body (bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _handle(wired: Wiring, settings: IntakeSettings, headers: dict[str, str],
            content_type: str | None, body: bytes, admission: Admission,
            instance: str) -> JSONResponse:
    try:
        return _accept(wired, settings, headers, content_type, body, admission, instance)
    except StoreUnavailable as exc:
        log.warning("intake store unavailable: %s", exc)
        raise problems.unavailable("The intake database is not reachable; nothing was "
                                   "accepted.") from exc


def _accept(wired: Wiring, settings: IntakeSettings, headers: dict[str, str],
            content_type: str | None, body: bytes, admission: Admission,
            instance: str) -> JSONResponse:
    principal = wired.authenticator.verify(admission, body)
    if principal.scheme != V1:
        return _authenticated(wired, settings, principal, headers, content_type, body, instance)
    try:
        response = _authenticated(wired, settings, principal, headers, content_type, body,
                                  instance)
    except Problem as problem:
        problem.headers = {**problem.headers, **V1_DEPRECATION}
        raise
    response.headers.update(V1_DEPRECATION)
    return response


V1_DEPRECATION = {"Deprecation": "@1796169600"}  # RFC 9745: v1 deprecated since 2026-12-02


def _authenticated(wired: Wiring, settings: IntakeSettings, principal: Principal,
                   headers: dict[str, str], content_type: str | None, body: bytes,
                   instance: str) -> JSONResponse:
    try:
        mode, items = parse(content_type, headers, body, settings.intake_max_batch_events)
    except Problem as problem:
        metrics.count_refused(principal.department, 1, problem.slug)
        raise
    wait = wired.limiter.take(principal.department, len(items))
    if wait > 0:
        metrics.count_refused(principal.department, len(items), "rate-limited")
        raise problems.rate_limited(wait)
    try:
        outcome = wired.acceptance.accept(principal.department, items)
    except ForwardError as exc:
        log.warning("broker did not confirm %d event(s) from %s: %s", len(items),
                    principal.department, exc)
        raise problems.unavailable("The broker did not confirm the event(s).") from exc
    metrics.count_outcome(principal.department, items, outcome)
    if mode != "batch":
        return _single(outcome, items, instance)
    return _batch(outcome, instance)


def _single(outcome: RequestAnswer, items: list[Any], instance: str) -> JSONResponse:
    result = outcome.results[0]
    if not outcome.accepted:
        assert result.problem is not None
        return problem_response(result.problem, instance)
    event = items[0]
    assert isinstance(event, ValidatedEvent)
    log.info("accepted %s %s from %s (forwarded=%d)", event.type, event.id, event.source,
             outcome.forwarded)
    return JSONResponse({"id": result.id, "source": result.source, "status": "accepted"},
                        status_code=202)


def _batch(outcome: RequestAnswer, instance: str) -> JSONResponse:
    results = []
    for r in outcome.results:
        entry: dict[str, Any] = {"index": r.index, "id": r.id, "source": r.source,
                                 "status": r.status}
        if r.problem is not None:
            entry["problem"] = r.problem.type_uri
            entry["detail"] = r.problem.detail
            entry["errors"] = [p.as_dict() for p in r.problem.errors]
        results.append(entry)
    if outcome.accepted:
        log.info("accepted a batch of %d event(s) (forwarded=%d)", len(results),
                 outcome.forwarded)
        return JSONResponse({"status": "accepted", "count": len(results), "results": results},
                            status_code=202)
    refused = [r for r in outcome.results if r.problem is not None]
    errors = tuple(p for r in refused if r.problem for p in r.problem.errors)
    problem = Problem(
        "batch-refused", "The batch was refused; no event was accepted", outcome.status,
        f"{len(refused)} of {len(results)} event(s) were refused; fix them and resend the "
        "whole batch (events marked not-accepted were valid).", errors,
        extra={"results": results})
    return problem_response(problem, instance)


def _install_error_handlers(app: FastAPI) -> None:
    problems_http.install(app)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = Problem("http-" + str(exc.status_code), str(exc.detail), exc.status_code,
                          f"{request.method} {request.url.path}: {exc.detail}",
                          headers=dict(exc.headers or {}))
        return problem_response(problem, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = tuple(FieldProblem(".".join(str(p) for p in e.get("loc", ())),
                                    str(e.get("msg", "")), "") for e in exc.errors())
        return problem_response(problems.malformed("the request is not valid", errors),
                                request.url.path)
