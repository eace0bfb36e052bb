"""``python -m pantau_publishing.portal`` — serve the portal with uvicorn
(``PANTAU_PORTAL_HOST``, default 127.0.0.1; ``PANTAU_PORTAL_PORT``, default 8000;
``PANTAU_PORTAL_WORKERS`` worker processes, default 1).

Several workers spread the Python work (cleaning records, rendering pages) over the cores,
each with its own interpreter lock. They share the port; each is built by ``worker_app``
(logging and tracing set up in that process). Prometheus metrics are served only with one
worker: the client's registry is per process, so a single /metrics would count one worker
of several (docs/performance.md).
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from pantau_platform import metrics, tracing
from pantau_platform.logging import configure
from pantau_platform.production import enforce
from pantau_publishing.portal.app import create_app
from pantau_publishing.settings import PublishingSettings


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory when there are several)."""
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-portal")
    tracing.setup("publishing-portal", settings)
    return create_app(settings)


def main() -> int:
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-portal")
    enforce(settings, probe=settings.portal_production_problems)
    if settings.portal_workers > 1:
        uvicorn.run("pantau_publishing.portal.__main__:worker_app", factory=True,
                    workers=settings.portal_workers, host=settings.portal_host,
                    port=settings.portal_port, log_config=None, proxy_headers=True)
        return 0
    tracing.setup("publishing-portal", settings)
    metrics.serve(settings.metrics_host, settings.portal_metrics_port)  # not the public port
    uvicorn.run(create_app(settings), host=settings.portal_host, port=settings.portal_port,
                log_config=None, proxy_headers=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
