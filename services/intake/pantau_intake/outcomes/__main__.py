"""``python -m pantau_intake.outcomes`` — run intake's outcomes process (nameko, eventlet):
event outcomes for the status API, and webhook deliveries."""

import eventlet

eventlet.monkey_patch()  # first thing: before anything imports sockets or threads

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()  # PostgreSQL (intake's database) must yield to the hub, not block it

import signal  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from pantau_intake.credentials.dev import dev_keys_in_store  # noqa: E402
from pantau_intake.outcomes.settings import OutcomesSettings  # noqa: E402
from pantau_platform import tracing  # noqa: E402
from pantau_platform.logging import configure  # noqa: E402
from pantau_platform.production import enforce  # noqa: E402


def main() -> None:
    settings = OutcomesSettings()
    configure(settings.log_level, "intake-outcomes")
    tracing.setup("intake-outcomes", settings)
    enforce(settings, needs=["intake_amqp_url"], probe=lambda: dev_keys_in_store(settings))
    from pantau_intake.outcomes.service import CONFIG_PREFIX, OutcomesService

    # Two workers: the batch consumer (one batch at a time) and the delivery timer.
    runner = ServiceRunner(config={
        "AMQP_URI": settings.service_amqp_url("intake"), "max_workers": 2, "SERIALIZER": "json",
        f"{CONFIG_PREFIX}_BATCH_SIZE": settings.intake_outcomes_batch_size,
        f"{CONFIG_PREFIX}_BATCH_WAIT_MS": settings.intake_outcomes_batch_wait_ms,
        f"{CONFIG_PREFIX}_PREFETCH": settings.intake_outcomes_prefetch,
        f"{CONFIG_PREFIX}_DELIVERY_LIMIT": settings.intake_outcomes_delivery_limit,
        f"{CONFIG_PREFIX}_UNKNOWN_RETRIES": settings.intake_outcomes_unknown_retries,
        "HEALTH_PORT": settings.outcomes_health_port,
        "HEALTH_HOST": settings.health_host,
        "METRICS_PORT": settings.outcomes_metrics_port,
        "METRICS_HOST": settings.metrics_host,
    })
    runner.add_service(OutcomesService)

    def stop(*_args: object) -> None:
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    runner.wait()


if __name__ == "__main__":
    main()
