"""Intake's settings (environment variables ``PANTAU_INTAKE_*`` plus the common ``PANTAU_*``)."""

from __future__ import annotations

from pydantic import Field

from pantau_contracts.envelope import MAX_EVENT_BYTES
from pantau_intake.domain.timing import DEFAULT_MAX_FUTURE_SKEW_SECONDS
from pantau_platform.settings import PantauSettings

DEV_MASTER_KEY = "pantau-dev-master-key-NOT-FOR-PRODUCTION"
"""Development-only default for PANTAU_INTAKE_MASTER_KEY. Production MUST set its own (a long
random string kept outside the database, e.g. in the secret store of the deployment)."""


class IntakeSettings(PantauSettings):
    """Everything intake's processes read from the environment."""

    intake_host: str = "127.0.0.1"
    intake_port: int = 8001
    intake_master_key: str = DEV_MASTER_KEY
    intake_database_url: str = ""  # empty: SQLite file intake.sqlite3 in PANTAU_STATE_DIR
    intake_replay_window_seconds: int = 300
    # signature scheme v1 (timestamp + body only) for structured and batched mode: accepted with a
    # ``Deprecation`` answer header while true; binary mode always needs v2
    intake_accept_v1_signatures: bool = True
    intake_idempotency_seconds: int = 24 * 3600  # how long an accepted (source, id) is remembered
    # each department's default ceiling (``credentials rate set`` gives one its own, e.g. for a
    # backfill); <= 0: no default ceiling
    intake_rate_per_second: float = 50.0
    intake_rate_burst: int = 500
    # what one HTTP process accepts per second, shared fairly by the active departments
    # (domain.rate_limit): a department within its share is always served; <= 0 turns it off
    intake_rate_capacity_per_second: float = 3000.0
    intake_rate_capacity_burst: int = 6000
    intake_max_event_bytes: int = MAX_EVENT_BYTES
    intake_max_batch_bytes: int = 5 * 1024 * 1024
    intake_max_batch_events: int = 500
    intake_key_cache_seconds: float = 30.0  # how long a resolved key is cached (revocation lag)
    # each department's RabbitMQ user limits (apply-amqp): its client needs one connection and
    # one channel; a few more allow a restart overlapping the old connection
    intake_department_max_connections: int = Field(10, ge=1)
    intake_department_max_channels: int = Field(50, ge=1)
    intake_trusted_amqp_users: str = "pantau"  # comma list: operators allowed to replay to ingress
    # Dead letters (pantau_tools.deadletters): the AMQP users of Pantau's services, whose own
    # dead letters' x-pantau-* headers are believed (comma list: the operator and every service
    # user of infra/rabbitmq/identities.tsv), and how many days a dead letter keeps data.applicant.
    intake_deadletters_trusted_publishers: str = (
        "pantau,pantau-intake,pantau-tracking,pantau-indexer,pantau-mailer")
    intake_deadletters_scrub_days: float = Field(30, ge=0)
    # an event's claimed ``time`` may be at most this far after the moment intake received it
    # (a sender's clock running a little fast); later is refused (HTTP 422, AMQP invalid-event)
    intake_max_future_skew_seconds: int = Field(DEFAULT_MAX_FUTURE_SKEW_SECONDS, ge=0)
    # AMQP ingress batches (pantau_nameko.batch_consume): one accepted-events lookup, one
    # confirmed forward and one memory write per batch, instead of per event. Refusals are
    # dead-lettered only when the batch settles, so a batch handled again repeats none. The
    # prefetch applies per queue (one consumer per department queue) and holds the next batch.
    intake_ingress_batch_size: int = Field(200, ge=1)
    intake_ingress_batch_wait_ms: float = Field(20.0, ge=0)
    intake_ingress_prefetch: int = Field(400, ge=1)
    # must not exceed intake.ingress's x-delivery-limit (5): past it the broker would dead-letter
    # a failing message without our x-pantau-reason; lower only to give up sooner
    intake_ingress_delivery_limit: int = 5
    # a message failing for an unknown reason (not the broker or the database away: that is
    # held) is retried in-process this often before it is requeued (pantau_nameko.batching)
    intake_ingress_unknown_retries: int = 3
    # The AMQP ingress's health server (GET /healthz, /readyz: "waiting for database|broker"
    # while a message is held through an outage); 0 turns it off.
    ingress_health_port: int = 8103  # PANTAU_INGRESS_HEALTH_PORT
    # Prometheus /metrics (own servers on PANTAU_METRICS_HOST, never the public API; 0 = off)
    ingress_metrics_port: int = 9103  # PANTAU_INGRESS_METRICS_PORT
    intake_metrics_port: int = 9104  # PANTAU_INTAKE_METRICS_PORT (the HTTP intake)

    @property
    def credentials_database_url(self) -> str:
        if self.intake_database_url:
            return self.intake_database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.state_dir / 'intake.sqlite3'}"

    @property
    def using_dev_master_key(self) -> bool:
        return self.intake_master_key == DEV_MASTER_KEY
