"""``python -m pantau_publishing.indexer`` — run the indexer until SIGTERM/SIGINT."""

from pantau_nameko.runner import patch

patch()  # first thing: everything below must see the green stdlib

from typing import Any  # noqa: E402

from pantau_nameko.runner import batch_config, run, server_config  # noqa: E402
from pantau_publishing.indexer.service import IndexerService  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402


def container_config(settings: PublishingSettings) -> dict[str, Any]:
    return {
        "AMQP_URI": settings.service_amqp_url("indexer"), "max_workers": 4,
        "ELASTICSEARCH_URL": settings.elasticsearch_url,
        "INDEX_ALIAS": settings.index_alias,
        "CHANGES_ALIAS": settings.changes_alias,
        "INDEX_REFRESH_SECONDS": settings.index_refresh_seconds,
        "INDEXER_WRITTEN_CASES": settings.indexer_written_cases,
        **batch_config("INDEXER", size=settings.batch_size, wait_ms=settings.batch_wait_ms,
                       prefetch=settings.batch_size * 2,  # the next batch already at hand
                       unknown_retries=settings.indexer_unknown_retries,
                       queue=settings.publishing_queue),
        **server_config(settings, health_port=settings.indexer_health_port,
                        metrics_port=settings.indexer_metrics_port),
    }


def main() -> int:
    settings = PublishingSettings()
    return run(IndexerService, "publishing-indexer", settings, container_config,
               needs=["indexer_amqp_url"])


if __name__ == "__main__":
    raise SystemExit(main())
