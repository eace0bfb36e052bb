"""Service identities: the table, passwords, URLs, and the per-service AMQP URL setting."""

from __future__ import annotations

import pytest

from pantau_intake.settings import IntakeSettings
from pantau_platform.identities import (
    apply_service_users,
    dev_password,
    identity_url,
    load_identities,
    password_for,
)
from pantau_platform.settings import PantauSettings


class RecordingApi:
    def __init__(self) -> None:
        self.users: dict[str, str] = {}
        self.rights: dict[str, tuple[str, str, str]] = {}

    def user(self, name: str, password: str, tags: str = "") -> None:
        self.users[name] = password

    def permissions(self, user: str, configure: str, write: str, read: str) -> None:
        self.rights[user] = (configure, write, read)


def test_apply_sets_every_user_with_its_rights_and_env_passwords() -> None:
    api = RecordingApi()
    users = apply_service_users(api, env={"PANTAU_AMQP_PASSWORD_INTAKE": "s3cret"})
    assert users == ["pantau-intake", "pantau-tracking", "pantau-indexer", "pantau-mailer"]
    assert api.users["pantau-intake"] == "s3cret"
    assert api.users["pantau-indexer"] == dev_password("pantau-indexer")
    assert api.rights["pantau-indexer"] == ("^$", r"^pantau\.dlx$", r"^publishing\.cases$")


def test_production_needs_a_real_password() -> None:
    identity = load_identities()["pantau-tracking"]
    with pytest.raises(ValueError, match="PANTAU_AMQP_PASSWORD_TRACKING"):
        password_for(identity, {}, production=True)


def test_identity_url_keeps_host_and_vhost() -> None:
    assert identity_url("amqp://pantau:pantau@127.0.0.1:5672/pantau_x", "pantau-intake", "a/b") \
        == "amqp://pantau-intake:a%2Fb@127.0.0.1:5672/pantau_x"


def test_each_service_url_falls_back_to_the_shared_one_in_development_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_AMQP_URL", "amqp://op:op@h/v")
    monkeypatch.setenv("PANTAU_INDEXER_AMQP_URL", "amqp://pantau-indexer:x@h/v")
    settings = PantauSettings()
    assert settings.service_amqp_url("tracking") == "amqp://op:op@h/v"
    assert settings.service_amqp_url("indexer") == "amqp://pantau-indexer:x@h/v"
    monkeypatch.setenv("PANTAU_ENV", "production")
    with pytest.raises(ValueError, match="PANTAU_TRACKING_AMQP_URL"):
        PantauSettings().service_amqp_url("tracking")


def test_the_dead_letter_tool_believes_every_service_identity() -> None:
    trusted = set(IntakeSettings().intake_deadletters_trusted_publishers.split(","))
    assert set(load_identities()) <= trusted
