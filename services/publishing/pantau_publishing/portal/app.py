"""The portal application factory: ``create_app()`` wires settings, the search port and routes.

    python -m pantau_publishing.portal   (uvicorn, factory: pantau_publishing.portal.app:create_app)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from pantau_platform import apidocs, tracing
from pantau_platform.metrics import instrument
from pantau_publishing.portal import (
    api,
    errors,
    exports,
    feeds,
    follow,
    health,
    live,
    open311,
    opendata,
    pages,
    sheet,
    survey,
    transparency,
)
from pantau_publishing.portal.case_view import ServiceStandards
from pantau_publishing.portal.exports import ExportSlots
from pantau_publishing.portal.rendering import render_error
from pantau_publishing.portal.revisions import RevisionHub
from pantau_publishing.portal.security import SecurityHeaders
from pantau_publishing.service.ports import TransparencyLog
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(settings: PublishingSettings | None = None,
               records: PublicRecords | None = None,
               log: TransparencyLog | None = None) -> FastAPI:
    """Build the app. Without ``records`` it reads the Elasticsearch aliases from settings;
    tests pass ``PublicRecords`` over a fake ``CaseReader``. Without ``log`` it reads the
    transparency log from ``settings.effective_transparency_url`` (none: the log's endpoints
    answer 503)."""
    settings = settings or PublishingSettings()
    engine = None
    if log is None and records is None and settings.effective_transparency_url:
        from pantau_publishing.adapters.transparency_log import open_log

        engine, log = open_log(settings.effective_transparency_url)
    es = None
    standards = ServiceStandards.load()  # fees/requirements on case pages; facet names
    if records is None:
        from pantau_publishing.adapters.catalogue_names import CatalogueNames
        from pantau_publishing.adapters.search.client import Aliases, make_client
        from pantau_publishing.adapters.search.store import EsCaseReader

        es = make_client(settings.elasticsearch_url, settings.elasticsearch_timeout_seconds)
        records = PublicRecords(EsCaseReader(es, Aliases.from_settings(settings)),
                                dashboard_ttl=settings.dashboard_cache_seconds,
                                rendered_cases=settings.portal_rendered_cases,
                                names=CatalogueNames(standards.catalogue))

    hub = RevisionHub(records.revisions, settings.sse_poll_seconds, settings.sse_max_streams,
                      settings.sse_max_streams_per_ip)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if es is not None:
            from pantau_publishing.adapters.search.bootstrap import bootstrap
            from pantau_publishing.adapters.search.client import Aliases

            try:  # idempotent; the indexer does the same. Reads work (empty) until it exists.
                bootstrap(es, Aliases.from_settings(settings))
            except Exception as exc:  # noqa: BLE001 - the portal still serves its pages
                logger.warning("could not bootstrap the search index yet: %s", exc)
        yield
        await hub.stop()
        if es is not None:
            es.close()
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="Pantau — API layanan publik", version="1.0.0", lifespan=lifespan,
        description="Public, redacted records of local-government service cases: search, "
                    "statistics, Open311 GeoReport v2, Atom/JSON feeds and open-data exports. "
                    "Rekam jejak publik layanan pemerintah daerah — tanpa data pribadi.",
        docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json",
        telemetry=tracing.FASTAPI_TELEMETRY_OFF)  # traced by instrument_fastapi only
    instrument(app)  # HTTP RED per route template; /metrics only on PANTAU_PORTAL_METRICS_PORT
    tracing.instrument_fastapi(app)  # server spans (exported only if PANTAU_OTEL_EXPORTER)
    apidocs.install(app, "/api/docs")  # Swagger UI served from here: offline, under the CSP
    app.state.records = records
    app.state.settings = settings
    app.state.es = es
    app.state.transparency = log
    app.state.standards = standards
    app.state.revisions = hub
    app.state.export_slots = ExportSlots(settings.export_max_concurrent)
    # slow phones: compress pages, feeds and exports (not the SSE stream, which gzip would stall)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # outermost: every answer (errors, static files, docs) gets the headers
    app.add_middleware(SecurityHeaders, base_url=settings.base_url)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (health, transparency, api, open311, feeds, exports, live, opendata,
                   follow, sheet, survey, pages):
        app.include_router(module.router)
    errors.install(app, render_error)
    return app
