"""Typed settings from environment variables, with safe loopback defaults.

Each process builds one settings object at start (``XSettings()``); the names are the
``PANTAU_*`` variables that ``infra/stack.sh env`` prints and ``docker-compose.yml`` sets.
The AMQP URLs and ``PANTAU_ELASTICSEARCH_URL`` may list a cluster's nodes, comma-separated
(``pantau_platform.endpoints``); AMQP lists are kept in kombu's ``;``-separated failover form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pantau_platform.endpoints import kombu_url

AmqpIdentity = Literal["intake", "tracking", "indexer"]
REPO_ROOT = Path(__file__).resolve().parents[3]


class PantauSettings(BaseSettings):
    """What every Pantau process needs."""

    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore", frozen=True)

    # PANTAU_ENV: anything but these two words is refused at start ("prod" must not quietly
    # mean development and its generated keys).
    env: Literal["development", "production"] = "development"
    amqp_url: str = "amqp://pantau:pantau@127.0.0.1:5672/pantau"
    amqp_management_url: str = "http://pantau:pantau@127.0.0.1:15672"
    # Each process's own RabbitMQ identity (docs/architecture.md, "Identities"): intake's
    # processes, tracking and the indexer connect as their own users with only their own
    # exchanges and queues. Empty: ``amqp_url`` — development only (one URL for ``make run``
    # and the tests); production refuses to start without its own URL (``service_amqp_url``).
    intake_amqp_url: str = ""  # PANTAU_INTAKE_AMQP_URL
    tracking_amqp_url: str = ""  # PANTAU_TRACKING_AMQP_URL
    indexer_amqp_url: str = ""  # PANTAU_INDEXER_AMQP_URL
    # Messages each department's ingress queue may hold; past it the broker refuses (nacks) the
    # department's publishes and its client spools. Applied as a policy by the topology.
    ingress_queue_max_length: int = 10_000  # PANTAU_INGRESS_QUEUE_MAX_LENGTH
    log_level: str = "INFO"
    # Where each process's Prometheus /metrics server listens (its port is the process's own
    # setting, PANTAU_*_METRICS_PORT; 0 turns it off). Loopback by default: never the public
    # site; set 0.0.0.0 in a pod for the scraper (docs/operations.md, "Metrics").
    metrics_host: str = "127.0.0.1"  # PANTAU_METRICS_HOST
    # Where each nameko process's health server (GET /healthz, /readyz) listens; its port is the
    # process's own setting (PANTAU_*_HEALTH_PORT, 0 turns it off). Loopback by default.
    health_host: str = "127.0.0.1"  # PANTAU_HEALTH_HOST
    state_dir: Path = REPO_ROOT / ".state"
    # Logs and traces (docs/architecture.md, "Traces and logs"): "json" writes one JSON object a
    # line with trace_id/span_id/event_id/receipt; "otlp" exports spans to
    # OTEL_EXPORTER_OTLP_ENDPOINT; "none" makes no network call; "jsonfile" (tests) appends
    # finished spans to PANTAU_OTEL_JSONFILE (default <state_dir>/spans-<service>.jsonl).
    log_format: Literal["text", "json"] = "text"  # PANTAU_LOG_FORMAT
    otel_exporter: Literal["none", "otlp", "jsonfile"] = "none"  # PANTAU_OTEL_EXPORTER
    otel_jsonfile: Path | None = None  # PANTAU_OTEL_JSONFILE

    @field_validator("amqp_url", "intake_amqp_url", "tracking_amqp_url", "indexer_amqp_url")
    @classmethod
    def _failover_list(cls, value: str) -> str:
        # a cluster's nodes, "amqp://a,amqp://b" -> kombu's failover string "amqp://a;amqp://b"
        return kombu_url(value) if value.strip() else ""

    def service_amqp_url(self, identity: AmqpIdentity) -> str:
        """The AMQP URL of ``identity``'s own user; in development ``amqp_url`` when unset."""
        own = str(getattr(self, f"{identity}_amqp_url"))
        if own:
            return own
        if self.production:
            raise ValueError(f"PANTAU_{identity.upper()}_AMQP_URL must be set in production: "
                             "each process connects as its own RabbitMQ user")
        return self.amqp_url

    @property
    def production(self) -> bool:
        return self.env == "production"


class ElasticsearchSettings(PantauSettings):
    # PANTAU_ELASTICSEARCH_URL: one node or several, comma-separated (a cluster's nodes)
    elasticsearch_url: str = "http://127.0.0.1:9200"
    # PANTAU_INDEX_REPLICAS: replicas of each public index; 0 on one node (else it stays
    # yellow), 1 on a cluster (``make cluster``) so losing a node loses no shard
    index_replicas: int = 0
    index_alias: str = "pantau-cases"


class DatabaseSettings(PantauSettings):
    database_url: str = ""  # empty: SQLite in the state folder (see ``effective_database_url``)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.state_dir / 'tracking.sqlite3'}"
