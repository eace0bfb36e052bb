"""``python -m pantau_publishing.portal`` — serve the portal with uvicorn
(``PANTAU_PORTAL_HOST``, default 127.0.0.1; ``PANTAU_PORTAL_PORT``, default 8000)."""

from __future__ import annotations

import uvicorn

from pantau_platform import metrics, tracing
from pantau_platform.logging import configure
from pantau_platform.production import enforce
from pantau_publishing.portal.app import create_app
from pantau_publishing.settings import PublishingSettings


def main() -> int:
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-portal")
    tracing.setup("publishing-portal", settings)
    enforce(settings, probe=settings.portal_production_problems)
    metrics.serve(settings.metrics_host, settings.portal_metrics_port)  # not the public port
    uvicorn.run(create_app(settings), host=settings.portal_host, port=settings.portal_port,
                log_config=None, proxy_headers=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
