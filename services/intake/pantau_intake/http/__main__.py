"""``python -m pantau_intake.http`` — serve the intake API with uvicorn."""

from __future__ import annotations

import uvicorn

from pantau_intake.adapters.dev_credentials import dev_keys_in_store
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from pantau_platform import metrics, tracing
from pantau_platform.logging import configure
from pantau_platform.production import enforce


def main() -> None:
    settings = IntakeSettings()
    configure(settings.log_level, "intake-http")
    tracing.setup("intake-http", settings)
    enforce(settings, needs=["intake_master_key", "intake_amqp_url"],
            probe=lambda: dev_keys_in_store(settings))
    if settings.using_dev_master_key:
        import logging

        logging.getLogger(__name__).warning(
            "PANTAU_INTAKE_MASTER_KEY is not set: using the DEV-ONLY master key")
    metrics.serve(settings.metrics_host, settings.intake_metrics_port)  # /metrics: own port
    uvicorn.run(create_app(settings), host=settings.intake_host, port=settings.intake_port,
                log_level=settings.log_level.lower(), access_log=False)


if __name__ == "__main__":
    main()
