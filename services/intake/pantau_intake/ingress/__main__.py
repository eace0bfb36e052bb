"""``python -m pantau_intake.ingress`` — run the nameko AMQP ingress (eventlet process)."""

import eventlet

eventlet.monkey_patch()  # first thing: before anything imports sockets or threads

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()  # PostgreSQL (accepted-events memory) must yield to the hub, not block it

import signal  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from pantau_intake.credentials.dev import dev_keys_in_store  # noqa: E402
from pantau_intake.settings import IntakeSettings  # noqa: E402
from pantau_platform import tracing  # noqa: E402
from pantau_platform.logging import configure  # noqa: E402
from pantau_platform.production import enforce  # noqa: E402


def main() -> None:
    settings = IntakeSettings()
    configure(settings.log_level, "intake-ingress")
    tracing.setup("intake-ingress", settings)
    enforce(settings, needs=["intake_amqp_url"], probe=lambda: dev_keys_in_store(settings))
    from pantau_intake.ingress.service import CONFIG_PREFIX, IngressService, department_queues

    # The batch consumer runs one batch at a time, in queue order (per-case ordering; sequence
    # numbers are the authoritative guard downstream).
    runner = ServiceRunner(config={
        "AMQP_URI": settings.service_amqp_url("intake"), "max_workers": 1, "SERIALIZER": "json",
        f"{CONFIG_PREFIX}_EXTRA_QUEUES": department_queues(),  # one bounded queue per department
        f"{CONFIG_PREFIX}_BATCH_SIZE": settings.intake_ingress_batch_size,
        f"{CONFIG_PREFIX}_BATCH_WAIT_MS": settings.intake_ingress_batch_wait_ms,
        f"{CONFIG_PREFIX}_PREFETCH": settings.intake_ingress_prefetch,
        f"{CONFIG_PREFIX}_DELIVERY_LIMIT": settings.intake_ingress_delivery_limit,
        f"{CONFIG_PREFIX}_UNKNOWN_RETRIES": settings.intake_ingress_unknown_retries,
        "HEALTH_PORT": settings.ingress_health_port,
        "HEALTH_HOST": settings.health_host,
        "METRICS_PORT": settings.ingress_metrics_port,
        "METRICS_HOST": settings.metrics_host,
    })
    runner.add_service(IngressService)

    def stop(*_args: object) -> None:
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    runner.wait()


if __name__ == "__main__":
    main()
