"""Tracking's settings (environment variables ``PANTAU_*``)."""

from __future__ import annotations

from pantau_platform.settings import DatabaseSettings


class TrackingSettings(DatabaseSettings):
    """``PANTAU_DATABASE_URL`` (empty: SQLite in the state folder), ``PANTAU_AMQP_URL`` and:"""

    tracking_batch_size: int = 500  # PANTAU_TRACKING_BATCH_SIZE: messages per DB transaction
    tracking_batch_wait_ms: int = 50  # PANTAU_TRACKING_BATCH_WAIT_MS: max wait to fill a batch
    tracking_prefetch: int = 1000  # PANTAU_TRACKING_PREFETCH: unacked messages in flight
    tracking_max_workers: int = 10  # PANTAU_TRACKING_MAX_WORKERS: nameko worker pool
    tracking_queue: str = "tracking.accepted"  # PANTAU_TRACKING_QUEUE (tests: a private queue)
    # must match the queue's x-delivery-limit (5): on a message's last delivery an unknown
    # failure dead-letters it with reason handler-failed (never a transient one: that is held)
    tracking_delivery_limit: int = 5  # PANTAU_TRACKING_DELIVERY_LIMIT
    # a batch failing for an unknown reason (not the database away: that is held) is retried
    # in-process this often before it is requeued (pantau_nameko.batching)
    tracking_unknown_retries: int = 3  # PANTAU_TRACKING_UNKNOWN_RETRIES
    tracking_overdue_interval: float = 5.0  # seconds between overdue scans (read at import)
    tracking_relay_interval: float = 2.0  # seconds between safety-net outbox flushes
    tracking_pending_timeout: float = 600.0  # seconds an out-of-order gap may stay open
    # Retention (see adapters/retention.py): sent outbox rows are kept this long for forensics;
    # processed_events (the (source, id) dedup records) this long — dedup holds within it.
    tracking_outbox_retention_hours: float = 24.0  # PANTAU_TRACKING_OUTBOX_RETENTION_HOURS
    tracking_processed_retention_days: float = 30.0  # PANTAU_TRACKING_PROCESSED_RETENTION_DAYS
    tracking_purge_interval: float = 300.0  # seconds between purges (read at import)
    tracking_purge_batch_size: int = 1000  # PANTAU_TRACKING_PURGE_BATCH_SIZE: rows per DELETE
    tracking_purge_max_batches: int = 50  # PANTAU_TRACKING_PURGE_MAX_BATCHES: per table per run
    # Private applicant data (UU PDP 27/2022) is deleted this long after its case closed
    # (docs/privacy.md); open cases keep it.
    tracking_applicant_retention_days: float = 365.0  # PANTAU_TRACKING_APPLICANT_RETENTION_DAYS
    # Transparency log (see docs/transparency.md). The signing key is base64 of a raw Ed25519
    # private key or a PEM path; empty: a development key generated into the state folder
    # (refused when PANTAU_ENV=production).
    transparency_signing_key: str = ""  # PANTAU_TRANSPARENCY_SIGNING_KEY
    transparency_origin: str = "pantau.local/transparency"  # PANTAU_TRANSPARENCY_ORIGIN
    transparency_checkpoint_interval: float = 60.0  # seconds; at most one checkpoint per interval
    # Health server of the nameko process (GET /healthz, /readyz: "waiting for database" while a
    # batch is held through an outage); 0 turns it off.
    tracking_health_port: int = 8101  # PANTAU_TRACKING_HEALTH_PORT
    # Prometheus /metrics on PANTAU_METRICS_HOST; 0 turns it off. The SLA gauges (open, overdue,
    # late-reported cases per jurisdiction) are refreshed by one aggregate query this often.
    tracking_metrics_port: int = 9101  # PANTAU_TRACKING_METRICS_PORT
    tracking_sla_metrics_interval: float = 30.0  # seconds (read at import)
