"""pantau_platform.production: what a production start refuses, with fake settings classes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from pantau_platform import production
from pantau_platform.production import check, dev_passwords, enforce, refuse_to_start

GOOD_AMQP = "amqp://tracking:s3cret-long-random@broker:5672/pantau"
GOOD_MGMT = "http://ops:an0ther-secret@broker:15672"


class FakeSettings(BaseSettings):
    """A settings class like a service's: several URLs, a per-service AMQP URL, two secrets."""

    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore")

    env: str = "production"
    amqp_url: str = GOOD_AMQP
    amqp_management_url: str = GOOD_MGMT
    tracking_amqp_url: str = ""
    database_url: str = ""
    elasticsearch_url: str = "http://elasticsearch:9200"
    transparency_signing_key: str = "c2lnbmluZy1rZXktMzItYnl0ZXMtbG9uZy0tLS0tLS0="
    intake_master_key: str = "pantau-dev-master-key-NOT-FOR-PRODUCTION"
    portal_base_url: str = "https://pantau.example/"


@pytest.fixture(autouse=True)
def no_pantau_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check reads what a process was given from its environment: `make test` exports the
    stack's (development) URLs, which must not leak into these settings."""
    for name in [n for n in os.environ if n.startswith("PANTAU_")]:
        monkeypatch.delenv(name)


def test_production_settings_with_real_secrets_pass() -> None:
    assert check(FakeSettings(), needs=["transparency_signing_key"]) == []


@pytest.mark.parametrize("field, url", [
    ("amqp_url", "amqp://pantau:pantau@broker:5672/pantau"),
    ("amqp_management_url", "http://pantau:pantau@broker:15672"),
    ("database_url", "postgresql://pantau:pantau@db:5432/pantau"),
    ("database_url", "postgresql+psycopg2://pantau:pantau@db/pantau?sslmode=require"),
    ("tracking_amqp_url", "amqp://guest:guest@broker:5672/pantau"),
    ("tracking_amqp_url", "amqp://tracking:tracking@broker:5672/pantau"),  # user = password
    ("tracking_amqp_url", "amqp://pantau-tracking:pantau-tracking-dev-only@b:5672/pantau"),
    ("amqp_url", "amqp://dept.x:dev-only-kota-bandung-dpmptsp-amqp-NOT-FOR-PRODUCTION@b/p"),
])
def test_a_development_password_in_any_url_is_a_problem(field: str, url: str) -> None:
    problems = check(FakeSettings(**{field: url}))
    assert len(problems) == 1
    assert problems[0].startswith(f"PANTAU_{field.upper()} uses a development password")
    assert "@" not in problems[0]  # the URL is not repeated


def test_urls_without_a_password_are_not_problems() -> None:
    settings = FakeSettings(database_url="sqlite:////var/lib/pantau/t.sqlite3",
                            elasticsearch_url="https://es.internal:9200")
    assert check(settings) == []


def test_the_passwords_of_the_dev_files_count(tmp_path: Path) -> None:
    (tmp_path / "dev-services.yaml").write_text(
        "services:\n  - name: tracking\n    amqp_password: trk-dev-pw\n"
        "nested: {db: {password: db-dev-pw}}\n")
    found = dev_passwords(tmp_path)
    assert {"trk-dev-pw", "db-dev-pw", "pantau", "guest"} <= found
    assert "dev-only-kota-bandung-dpmptsp-amqp-NOT-FOR-PRODUCTION" in dev_passwords()


def test_needed_secrets_must_be_set_and_not_the_dev_value() -> None:
    missing = check(FakeSettings(transparency_signing_key=""), needs=["transparency_signing_key"])
    assert missing == ["PANTAU_TRANSPARENCY_SIGNING_KEY is not set; this process needs it in "
                       "production"]
    dev = check(FakeSettings(), needs=["intake_master_key"])
    assert len(dev) == 1 and dev[0].startswith("PANTAU_INTAKE_MASTER_KEY is the public "
                                               "development-only value")
    assert "NOT-FOR-PRODUCTION" not in dev[0]  # the value itself is never repeated


def test_every_problem_is_listed_in_one_message() -> None:
    settings = FakeSettings(amqp_url="amqp://pantau:pantau@b/p",
                            database_url="postgresql://pantau:pantau@db/pantau",
                            transparency_signing_key="")
    problems = check(settings, needs=["transparency_signing_key", "intake_master_key"],
                     found=["the credential store holds the development key k1"])
    assert len(problems) == 5
    with pytest.raises(SystemExit) as exited:
        refuse_to_start(problems)
    message = str(exited.value.code)
    assert message.startswith("Pantau refuses to start in production")
    for problem in problems:
        assert f"  - {problem}" in message


def test_no_problem_no_refusal() -> None:
    refuse_to_start([])


def test_enforce_does_nothing_in_development_not_even_the_probe() -> None:
    def probe() -> list[str]:
        raise AssertionError("the probe runs only in production")

    enforce(FakeSettings(env="development", amqp_url="amqp://pantau:pantau@b/p"), probe=probe)


def test_enforce_refuses_production_with_the_probes_findings() -> None:
    with pytest.raises(SystemExit) as exited:
        enforce(FakeSettings(), probe=lambda: ["dev key k1 is active"])
    assert "  - dev key k1 is active" in str(exited.value.code)
    enforce(FakeSettings(), needs=["transparency_signing_key"], probe=lambda: [])


def test_a_failing_probe_fails_closed() -> None:
    def probe() -> list[str]:
        raise ConnectionError("database away\nsecond line")

    with pytest.raises(SystemExit) as exited:
        enforce(FakeSettings(), probe=probe)
    assert "could not run (ConnectionError: database away)" in str(exited.value.code)


def test_defaults_count_only_when_given_or_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that does not use the operator's URLs is not handed them (least privilege): their
    development defaults are not its problem; given in its environment, or needed, they are."""
    from pantau_platform.settings import DatabaseSettings, PantauSettings

    for key in [k for k in os.environ if k.startswith("PANTAU_")]:
        monkeypatch.delenv(key)
    assert check(PantauSettings(env="production")) == []
    needed = check(PantauSettings(env="production"), needs=["amqp_url", "amqp_management_url"])
    assert {p.split()[0] for p in needed} == {"PANTAU_AMQP_URL", "PANTAU_AMQP_MANAGEMENT_URL"}
    monkeypatch.setenv("PANTAU_DATABASE_URL", "postgresql://pantau:pantau@127.0.0.1/pantau")
    given = check(DatabaseSettings(env="production"))
    assert [p.split()[0] for p in given] == ["PANTAU_DATABASE_URL"]
    assert production.env_name(DatabaseSettings(), "database_url") == "PANTAU_DATABASE_URL"
