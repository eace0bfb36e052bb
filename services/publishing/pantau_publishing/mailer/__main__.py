"""``python -m pantau_publishing.mailer`` — run the mailer until SIGTERM/SIGINT."""

from pantau_nameko.runner import patch

patch(psycopg=True)  # first thing (green stdlib; the citizen store is PostgreSQL in production)

from typing import Any  # noqa: E402

from pantau_nameko.runner import batch_config, run, server_config  # noqa: E402
from pantau_publishing.mailer.service import MailerService  # noqa: E402
from pantau_publishing.settings import PublishingSettings  # noqa: E402


def container_config(settings: PublishingSettings) -> dict[str, Any]:
    settings.state_dir.mkdir(parents=True, exist_ok=True)  # SQLite citizen store (development)
    return {
        "AMQP_URI": settings.mailer_amqp(), "max_workers": 4,
        "CITIZEN_DATABASE_URL": settings.effective_citizen_url,
        "SMTP_HOST": settings.smtp_host, "SMTP_PORT": settings.smtp_port,
        "SMTP_USERNAME": settings.smtp_username, "SMTP_PASSWORD": settings.smtp_password,
        "SMTP_STARTTLS": settings.smtp_starttls, "MAIL_FROM": settings.mail_from,
        "PUBLIC_BASE_URL": settings.base_url,
        **batch_config("MAILER", size=settings.batch_size, wait_ms=settings.batch_wait_ms,
                       prefetch=settings.batch_size * 2, queue=settings.follow_queue),
        **server_config(settings, health_port=settings.mailer_health_port,
                        metrics_port=settings.mailer_metrics_port),
    }


def main() -> int:
    settings = PublishingSettings()
    needs = ["mailer_amqp_url", "citizen_database_url"]
    if settings.smtp_username:
        needs.append("smtp_password")
    return run(MailerService, "publishing-mailer", settings, container_config,
               needs=needs, probe=settings.mailer_production_problems)


if __name__ == "__main__":
    raise SystemExit(main())
