"""``python -m pantau_publishing.indexer`` — run the indexer until SIGTERM/SIGINT."""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import logging  # noqa: E402 - eventlet must patch before anything else is imported
import signal  # noqa: E402

from eventlet.event import Event  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from pantau_platform import tracing  # noqa: E402
from pantau_platform.logging import configure  # noqa: E402
from pantau_platform.production import enforce  # noqa: E402
from pantau_publishing.indexer.service import IndexerService  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402


def config_from(settings: PublishingSettings) -> dict[str, object]:
    return {
        "AMQP_URI": settings.service_amqp_url("indexer"),
        "ELASTICSEARCH_URL": settings.elasticsearch_url,
        "INDEX_ALIAS": settings.index_alias,
        "CHANGES_ALIAS": settings.changes_alias,
        "INDEXER_QUEUE": settings.publishing_queue,
        "INDEXER_BATCH_SIZE": settings.batch_size,
        "INDEXER_BATCH_WAIT_MS": settings.batch_wait_ms,
        "INDEXER_PREFETCH": settings.batch_size * 2,
        "INDEXER_UNKNOWN_RETRIES": settings.indexer_unknown_retries,
        "HEALTH_PORT": settings.indexer_health_port,
        "HEALTH_HOST": settings.health_host,
        "METRICS_PORT": settings.indexer_metrics_port,
        "METRICS_HOST": settings.metrics_host,
        "INDEX_REFRESH_SECONDS": settings.index_refresh_seconds,
        "max_workers": 4,
    }


def main() -> int:
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-indexer")
    tracing.setup("publishing-indexer", settings)
    enforce(settings, needs=["indexer_amqp_url"])
    runner = ServiceRunner(config_from(settings))
    runner.add_service(IndexerService)
    stopping = Event()

    def on_signal(signum: int, frame: object) -> None:
        if not stopping.ready():
            stopping.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    logging.getLogger("pantau_publishing.indexer").info(
        "indexer consuming publishing.cases → alias %s", settings.index_alias)
    stopping.wait()
    runner.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
