"""Publishing settings (``PANTAU_*`` environment variables)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from pantau_platform.endpoints import kombu_url
from pantau_platform.settings import ElasticsearchSettings

DEV_SURVEY_SECRET = "dev-only-survey-secret-NOT-FOR-PRODUCTION"  # noqa: S105 - public, dev only


class PublishingSettings(ElasticsearchSettings):
    """``PANTAU_INDEX_ALIAS`` / ``PANTAU_CHANGES_ALIAS`` name the aliases (tests: unique)."""

    changes_alias: str = "pantau-changes"
    publishing_queue: str = "publishing.cases"  # PANTAU_PUBLISHING_QUEUE
    batch_size: int = 100  # PANTAU_BATCH_SIZE: messages per bulk request
    batch_wait_ms: int = 200  # PANTAU_BATCH_WAIT_MS: longest a message waits for its batch
    # PANTAU_INDEXER_WRITTEN_CASES: cases whose written timeline entries the indexer remembers,
    # so an update sends only its new entries (service.written_entries; ≈ 215 B each); 0: off
    indexer_written_cases: int = Field(50_000, ge=0)
    portal_host: str = "127.0.0.1"
    portal_port: int = 8000
    # PANTAU_PORTAL_WORKERS: uvicorn worker processes (each its own GIL; docs/performance.md)
    portal_workers: int = 1
    # PANTAU_DASHBOARD_CACHE_SECONDS: a place's dashboard figures are served from memory this
    # long (the page says "as of" when); 0 computes them on every view
    dashboard_cache_seconds: float = 30.0
    # PANTAU_PORTAL_RENDERED_CASES: Open311 renderings of case versions kept in memory (≈ 1 kB
    # each; a case's next revision is a new version). 0 reads every listed case whole again
    portal_rendered_cases: int = Field(20_000, ge=0)
    # PANTAU_PUBLIC_BASE_URL: where citizens reach the portal. Every absolute URL (feeds,
    # Open311 discovery, redirects, the feeds page) is built from it, never from the request's
    # Host header. Empty: http://127.0.0.1:<PANTAU_PORTAL_PORT> (development). https turns HSTS on.
    public_base_url: str = ""
    sse_poll_seconds: float = 2.0  # how often the one shared poll asks for watched revisions
    # Open live streams (/kasus/{receipt}/events): past the per-IP cap 429, past the process
    # cap 503, both with Retry-After. Each stream is a socket and a task, nothing more.
    sse_max_streams: int = 1000  # PANTAU_SSE_MAX_STREAMS, per process
    sse_max_streams_per_ip: int = 20  # PANTAU_SSE_MAX_STREAMS_PER_IP
    comparison_days: int = 90  # PANTAU_COMPARISON_DAYS: the period of /perbandingan (and before)
    comparison_min_cases: int = 20  # PANTAU_COMPARISON_MIN_CASES: fewer completed: not ranked
    # /data.json (DCAT-US): the publisher and contact point harvesters show
    open_data_publisher: str = "Pantau"  # PANTAU_OPEN_DATA_PUBLISHER
    open_data_contact_name: str = "Pantau"  # PANTAU_OPEN_DATA_CONTACT_NAME
    open_data_contact_email: str = "data@pantau.id"  # PANTAU_OPEN_DATA_CONTACT_EMAIL
    export_max_concurrent: int = 4  # PANTAU_EXPORT_MAX_CONCURRENT: more at once answer 503
    export_timeout_seconds: float = 300.0  # PANTAU_EXPORT_TIMEOUT_SECONDS: an export is cut
    # PANTAU_ELASTICSEARCH_TIMEOUT_SECONDS: longest the portal waits for one search request
    elasticsearch_timeout_seconds: float = 10.0
    # The indexer's health server (GET /healthz, /readyz: "waiting for elasticsearch" while a
    # batch is held through an outage); 0 turns it off.
    indexer_health_port: int = 8102  # PANTAU_INDEXER_HEALTH_PORT
    # a batch failing for an unknown reason (not Elasticsearch away: that is held) is retried
    # in-process this often before it is requeued (pantau_nameko.batching)
    indexer_unknown_retries: int = 3  # PANTAU_INDEXER_UNKNOWN_RETRIES
    # Prometheus /metrics on their own servers (PANTAU_METRICS_HOST), never on the public
    # portal port; 0 turns one off.
    indexer_metrics_port: int = 9102  # PANTAU_INDEXER_METRICS_PORT
    portal_metrics_port: int = 9100  # PANTAU_PORTAL_METRICS_PORT
    # The index refresh interval (infra/elasticsearch/*-template.json: 500ms): a write is
    # searchable at most this long after its bulk request returned (freshness, searchable).
    index_refresh_seconds: float = 0.5  # PANTAU_INDEX_REFRESH_SECONDS
    # The transparency log lives in tracking's database; the portal only reads it. Production:
    # a URL whose role may SELECT the transparency_* tables and nothing else (docs/security.md).
    # Development: empty falls back to PANTAU_DATABASE_URL, or tracking's SQLite file.
    transparency_database_url: str = ""  # PANTAU_TRANSPARENCY_DATABASE_URL
    database_url: str = ""  # PANTAU_DATABASE_URL: only the development fallback above
    # The citizen store: publishing's own small private database, written by the portal and the
    # mailer — e-mail followers (personal data: never in the index, a feed or a log) and the
    # anonymous satisfaction-survey (SKM) answers. Empty: SQLite in the state folder
    # (development); production gives a PostgreSQL URL of its own (docs/privacy.md).
    citizen_database_url: str = ""  # PANTAU_CITIZEN_DATABASE_URL
    # The SKM survey (portal/survey.py): the per-case code printed on the status sheet is
    # HMAC(PANTAU_SURVEY_SECRET, receipt). Empty: a development secret (refused in production).
    survey_secret: str = ""  # PANTAU_SURVEY_SECRET
    survey_min_responses: int = 10  # PANTAU_SURVEY_MIN_RESPONSES: fewer answers: no IKM shown
    survey_posts_per_hour: int = 20  # PANTAU_SURVEY_POSTS_PER_HOUR: per client address
    # E-mail followers (docs/operations.md, "Mail"). The mailer (python -m
    # pantau_publishing.mailer) is the only process that talks SMTP; the portal writes the
    # outbox. Development: the local sink (infra/lib/smtp.sh) on 127.0.0.1:1025, no auth.
    smtp_host: str = "127.0.0.1"  # PANTAU_SMTP_HOST
    smtp_port: int = 1025  # PANTAU_SMTP_PORT
    smtp_username: str = ""  # PANTAU_SMTP_USERNAME (empty: no AUTH)
    smtp_password: str = ""  # PANTAU_SMTP_PASSWORD
    smtp_starttls: bool = False  # PANTAU_SMTP_STARTTLS
    mail_from: str = "Pantau <noreply@pantau.invalid>"  # PANTAU_MAIL_FROM
    mailer_amqp_url: str = ""  # PANTAU_MAILER_AMQP_URL: the pantau-mailer RabbitMQ user
    follow_queue: str = "publishing.follow"  # PANTAU_FOLLOW_QUEUE
    mailer_health_port: int = 8107  # PANTAU_MAILER_HEALTH_PORT (0: off)
    mailer_metrics_port: int = 9107  # PANTAU_MAILER_METRICS_PORT (0: off)

    @property
    def base_url(self) -> str:
        """The public base URL without a trailing slash."""
        configured = self.public_base_url.strip().rstrip("/")
        return configured or f"http://127.0.0.1:{self.portal_port}"

    def portal_production_problems(self) -> list[str]:
        """What the portal needs in production beyond credentials (``production.enforce``'s
        probe): a real public base URL (feeds and links carry it) and the log's read-only URL."""
        problems = []
        base = self.public_base_url.strip()
        host = urlsplit(base).hostname if "://" in base else None
        if not host or host in {"127.0.0.1", "localhost", "::1"}:
            problems.append("PANTAU_PUBLIC_BASE_URL is not set to the portal's public address "
                            "(e.g. https://pantau.jabarprov.go.id); feeds and links carry it")
        if not self.transparency_database_url:
            problems.append("PANTAU_TRANSPARENCY_DATABASE_URL is not set: the portal reads the "
                            "transparency log through a read-only role (docs/security.md)")
        secret = self.survey_secret.strip()
        if len(secret) < 32 or "NOT-FOR-PRODUCTION" in secret.upper():
            problems.append("PANTAU_SURVEY_SECRET is not set to a random secret of 32+ "
                            "characters: it makes the survey codes on the status sheets")
        return problems

    @property
    def survey_key(self) -> bytes:
        """The survey-code secret (development: a fixed public value, refused in production)."""
        return (self.survey_secret.strip() or DEV_SURVEY_SECRET).encode()

    @field_validator("mailer_amqp_url")
    @classmethod
    def _mailer_failover(cls, value: str) -> str:
        return kombu_url(value) if value.strip() else ""

    def mailer_amqp(self) -> str:
        """The mailer's own RabbitMQ URL; in development ``amqp_url`` when unset."""
        if self.mailer_amqp_url:
            return self.mailer_amqp_url
        if self.production:
            raise ValueError("PANTAU_MAILER_AMQP_URL must be set in production: each process "
                             "connects as its own RabbitMQ user")
        return self.amqp_url

    def mailer_production_problems(self) -> list[str]:
        """What the mailer needs in production beyond credentials (``production.enforce``'s
        probe): a real SMTP server (not the development sink), a sender and the public base
        URL its links carry."""
        problems = []
        if self.smtp_host in {"127.0.0.1", "localhost", "::1", "smtp-sink"} or not self.smtp_host:
            problems.append("PANTAU_SMTP_HOST is the development mail sink (or empty); set the "
                            "operator's SMTP relay (docs/operations.md, \"Mail\")")
        if "pantau.invalid" in self.mail_from or "@" not in self.mail_from:
            problems.append("PANTAU_MAIL_FROM is not set to a real sender address "
                            "(e.g. Pantau <noreply@pantau.jabarprov.go.id>)")
        if self.smtp_username and not self.smtp_starttls and self.smtp_port != 465:
            problems.append("PANTAU_SMTP_STARTTLS is off while PANTAU_SMTP_USERNAME is set: "
                            "the password would cross the network in clear")
        if not self.citizen_database_url:
            problems.append("PANTAU_CITIZEN_DATABASE_URL is not set: followers are stored in "
                            "the citizen store's own PostgreSQL database (docs/privacy.md)")
        base = self.public_base_url.strip()
        host = urlsplit(base).hostname if "://" in base else None
        if not host or host in {"127.0.0.1", "localhost", "::1"}:
            problems.append("PANTAU_PUBLIC_BASE_URL is not set to the portal's public address; "
                            "every mail's links carry it")
        return problems

    @property
    def effective_citizen_url(self) -> str:
        """Where followers and survey answers are stored (see ``citizen_database_url``)."""
        return self.citizen_database_url or f"sqlite:///{self.state_dir / 'citizen.sqlite3'}"

    @property
    def effective_transparency_url(self) -> str | None:
        """Where the log is read from; None in production when it is not configured."""
        if self.transparency_database_url:
            return self.transparency_database_url
        if self.production:
            return None
        return self.database_url or f"sqlite:///{self.state_dir / 'tracking.sqlite3'}"
