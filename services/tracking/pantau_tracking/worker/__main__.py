"""``python -m pantau_tracking.worker`` (or ``python -m pantau_tracking``, the name every deployment
file uses): run the tracking nameko service until SIGTERM/SIGINT."""

from pantau_nameko.runner import patch

patch(psycopg=True)  # first thing: everything below must see the green stdlib (and psycopg2)

from typing import Any  # noqa: E402

from pantau_nameko.runner import batch_config, run, server_config  # noqa: E402
from pantau_tracking.settings import TrackingSettings  # noqa: E402
from pantau_tracking.worker.service import TrackingService  # noqa: E402


def container_config(settings: TrackingSettings) -> dict[str, Any]:
    return {
        "AMQP_URI": settings.service_amqp_url("tracking"),
        "max_workers": settings.tracking_max_workers,
        **batch_config("TRACKING", size=settings.tracking_batch_size,
                       wait_ms=settings.tracking_batch_wait_ms,
                       prefetch=settings.tracking_prefetch,
                       delivery_limit=settings.tracking_delivery_limit,
                       unknown_retries=settings.tracking_unknown_retries,
                       queue=settings.tracking_queue),
        **server_config(settings, health_port=settings.tracking_health_port,
                        metrics_port=settings.tracking_metrics_port),
    }


def main() -> int:
    settings = TrackingSettings()
    return run(TrackingService, "tracking", settings, container_config,
               needs=["transparency_signing_key", "tracking_amqp_url"])


if __name__ == "__main__":
    raise SystemExit(main())
