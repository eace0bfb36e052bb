"""``python -m pantau_tracking``: run the tracking nameko service until SIGTERM/SIGINT."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # known; nameko needs it

import eventlet  # noqa: E402

eventlet.monkey_patch()  # first thing: everything below must see the green stdlib

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import signal  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from pantau_platform import tracing  # noqa: E402
from pantau_platform.logging import configure  # noqa: E402
from pantau_platform.production import enforce  # noqa: E402
from pantau_tracking.entrypoints.service import TrackingService  # noqa: E402
from pantau_tracking.settings import TrackingSettings  # noqa: E402


def main() -> int:
    settings = TrackingSettings()
    configure(settings.log_level, "tracking")
    tracing.setup("tracking", settings)
    enforce(settings, needs=["transparency_signing_key", "tracking_amqp_url"])
    config = {
        "AMQP_URI": settings.service_amqp_url("tracking"),
        "max_workers": settings.tracking_max_workers,
        "serializer": "json",
        "TRACKING_BATCH_SIZE": settings.tracking_batch_size,
        "TRACKING_BATCH_WAIT_MS": settings.tracking_batch_wait_ms,
        "TRACKING_PREFETCH": settings.tracking_prefetch,
        "TRACKING_QUEUE": settings.tracking_queue,
        "TRACKING_DELIVERY_LIMIT": settings.tracking_delivery_limit,
        "TRACKING_UNKNOWN_RETRIES": settings.tracking_unknown_retries,
        "HEALTH_PORT": settings.tracking_health_port,
        "HEALTH_HOST": settings.health_host,
        "METRICS_PORT": settings.tracking_metrics_port,
        "METRICS_HOST": settings.metrics_host,
    }
    runner = ServiceRunner(config)
    runner.add_service(TrackingService)

    def shutdown(signum: int, frame: object) -> None:
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    runner.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
