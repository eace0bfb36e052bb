"""The mailer's production guard: the development sink, a placeholder sender, a clear-text
password or a missing citizen store are refused at start, each named (``production.enforce``)."""

from __future__ import annotations

import pytest

from pantau_platform.production import check, enforce
from pantau_publishing.settings import PublishingSettings

REAL = {"env": "production", "smtp_host": "smtp.jabarprov.go.id", "smtp_port": 587,
        "smtp_starttls": True, "smtp_username": "pantau", "smtp_password": "Zx9-long-secret",
        "mail_from": "Pantau <noreply@pantau.jabarprov.go.id>",
        "public_base_url": "https://pantau.jabarprov.go.id",
        "citizen_database_url": "postgresql://pantau_citizen:Qw3-long@db:5432/pantau_citizen",
        "mailer_amqp_url": "amqp://pantau-mailer:Rt5-long@mq:5672/pantau"}


@pytest.fixture(autouse=True)
def _no_stack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``make test`` exports the local stack's (development) URLs; a production check run in
    that shell would rightly flag them, so each case sees only the settings it states."""
    import os

    for name in [n for n in os.environ if n.startswith("PANTAU_")]:
        monkeypatch.delenv(name)


def test_a_real_relay_passes() -> None:
    settings = PublishingSettings(**REAL)
    assert settings.mailer_production_problems() == []
    assert check(settings, needs=["mailer_amqp_url", "citizen_database_url",
                                  "smtp_password"]) == []


@pytest.mark.parametrize("change, named", [
    ({"smtp_host": "127.0.0.1"}, "PANTAU_SMTP_HOST"),
    ({"smtp_host": "smtp-sink"}, "PANTAU_SMTP_HOST"),
    ({"mail_from": "Pantau <noreply@pantau.invalid>"}, "PANTAU_MAIL_FROM"),
    ({"smtp_starttls": False}, "PANTAU_SMTP_STARTTLS"),
    ({"citizen_database_url": ""}, "PANTAU_CITIZEN_DATABASE_URL"),
    ({"public_base_url": ""}, "PANTAU_PUBLIC_BASE_URL"),
])
def test_development_mail_settings_are_refused_by_name(change: dict[str, object],
                                                       named: str) -> None:
    problems = PublishingSettings(**{**REAL, **change}).mailer_production_problems()
    assert any(p.startswith(named) for p in problems), problems


def test_the_guard_refuses_to_start_on_the_development_defaults() -> None:
    settings = PublishingSettings(env="production")
    with pytest.raises(SystemExit) as refused:
        enforce(settings, needs=["mailer_amqp_url", "citizen_database_url"],
                probe=settings.mailer_production_problems)
    assert "PANTAU_SMTP_HOST" in str(refused.value)
    assert "PANTAU_MAILER_AMQP_URL" in str(refused.value)

