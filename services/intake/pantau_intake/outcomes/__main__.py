"""``python -m pantau_intake.outcomes`` — run intake's outcomes process (nameko, eventlet) until
SIGTERM/SIGINT: event outcomes for the status API, and webhook deliveries."""

from pantau_nameko.runner import patch

patch(psycopg=True)  # first thing; PostgreSQL (intake's database) must yield to the hub

from typing import Any  # noqa: E402

from pantau_intake.adapters.dev_credentials import dev_keys_in_store  # noqa: E402
from pantau_intake.outcomes.service import CONFIG_PREFIX, OutcomesService  # noqa: E402
from pantau_intake.outcomes.settings import OutcomesSettings  # noqa: E402
from pantau_nameko.runner import batch_config, run, server_config  # noqa: E402


def container_config(settings: OutcomesSettings) -> dict[str, Any]:
    # Two workers: the batch consumer (one batch at a time) and the delivery timer.
    return {
        "AMQP_URI": settings.service_amqp_url("intake"), "max_workers": 2,
        **batch_config(CONFIG_PREFIX, size=settings.intake_outcomes_batch_size,
                       wait_ms=settings.intake_outcomes_batch_wait_ms,
                       prefetch=settings.intake_outcomes_prefetch,
                       delivery_limit=settings.intake_outcomes_delivery_limit,
                       unknown_retries=settings.intake_outcomes_unknown_retries),
        **server_config(settings, health_port=settings.outcomes_health_port,
                        metrics_port=settings.outcomes_metrics_port),
    }


def main() -> int:
    settings = OutcomesSettings()
    return run(OutcomesService, "intake-outcomes", settings, container_config,
               needs=["intake_amqp_url"], probe=lambda: dev_keys_in_store(settings))


if __name__ == "__main__":
    raise SystemExit(main())
