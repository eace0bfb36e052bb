"""``python -m pantau_intake.ingress`` — run the nameko AMQP ingress until SIGTERM/SIGINT."""

from pantau_nameko.runner import patch

patch(psycopg=True)  # first thing; PostgreSQL (accepted-events memory) must yield to the hub

from typing import Any  # noqa: E402

from pantau_intake.adapters.dev_credentials import dev_keys_in_store  # noqa: E402
from pantau_intake.ingress.service import CONFIG_PREFIX, IngressService, department_queues  # noqa: E402
from pantau_intake.settings import IntakeSettings  # noqa: E402
from pantau_nameko.runner import batch_config, run, server_config  # noqa: E402


def container_config(settings: IntakeSettings) -> dict[str, Any]:
    # One worker: the batch consumer runs one batch at a time, in queue order (per-case order;
    # sequence numbers are the authoritative guard downstream).
    return {
        "AMQP_URI": settings.service_amqp_url("intake"), "max_workers": 1,
        **batch_config(CONFIG_PREFIX, size=settings.intake_ingress_batch_size,
                       wait_ms=settings.intake_ingress_batch_wait_ms,
                       prefetch=settings.intake_ingress_prefetch,
                       delivery_limit=settings.intake_ingress_delivery_limit,
                       unknown_retries=settings.intake_ingress_unknown_retries,
                       extra_queues=department_queues()),  # one bounded queue per department
        **server_config(settings, health_port=settings.ingress_health_port,
                        metrics_port=settings.ingress_metrics_port),
    }


def main() -> int:
    settings = IntakeSettings()
    return run(IngressService, "intake-ingress", settings, container_config,
               needs=["intake_amqp_url"], probe=lambda: dev_keys_in_store(settings))


if __name__ == "__main__":
    raise SystemExit(main())
