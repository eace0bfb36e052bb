"""``python -m pantau_publishing.mailer`` — run the mailer until SIGTERM/SIGINT."""

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
from pantau_publishing.mailer.service import MailerService  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402


def config_from(settings: PublishingSettings) -> dict[str, object]:
    settings.state_dir.mkdir(parents=True, exist_ok=True)  # SQLite citizen store (development)
    return {
        "AMQP_URI": settings.mailer_amqp(),
        "CITIZEN_DATABASE_URL": settings.effective_citizen_url,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": settings.smtp_port,
        "SMTP_USERNAME": settings.smtp_username,
        "SMTP_PASSWORD": settings.smtp_password,
        "SMTP_STARTTLS": settings.smtp_starttls,
        "MAIL_FROM": settings.mail_from,
        "PUBLIC_BASE_URL": settings.base_url,
        "MAILER_QUEUE": settings.follow_queue,
        "HEALTH_PORT": settings.mailer_health_port,
        "HEALTH_HOST": settings.health_host,
        "METRICS_PORT": settings.mailer_metrics_port,
        "METRICS_HOST": settings.metrics_host,
        "max_workers": 4,
    }


def main() -> int:
    settings = PublishingSettings()
    configure(settings.log_level, "publishing-mailer")
    tracing.setup("publishing-mailer", settings)
    enforce(settings, needs=["mailer_amqp_url", "citizen_database_url", "smtp_password"]
            if settings.smtp_username else ["mailer_amqp_url", "citizen_database_url"],
            probe=settings.mailer_production_problems)
    runner = ServiceRunner(config_from(settings))
    runner.add_service(MailerService)
    stopping = Event()

    def on_signal(signum: int, frame: object) -> None:
        if not stopping.ready():
            stopping.send(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    logging.getLogger("pantau_publishing.mailer").info(
        "mailer consuming %s → SMTP %s:%d", settings.follow_queue, settings.smtp_host,
        settings.smtp_port)
    stopping.wait()
    runner.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
