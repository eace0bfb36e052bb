"""Nameko dependency providers of the mailer: the citizen store and the SMTP transport, one per
container, built from the runner's config (``mailer.__main__.config_from``)."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from pantau_publishing.adapters.citizen_store import SqlFollowStore
from pantau_publishing.adapters.smtp import SmtpConfig, SmtpTransport
from pantau_publishing.service.follow_mail import MailContext


class FollowStoreProvider(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        self.store = SqlFollowStore(self.container.config["CITIZEN_DATABASE_URL"])

    def stop(self) -> None:
        self.store.dispose()

    def get_dependency(self, worker_ctx: Any) -> SqlFollowStore:
        return self.store


class SmtpProvider(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        config = self.container.config
        self.transport = SmtpTransport(SmtpConfig(
            host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]),
            username=config.get("SMTP_USERNAME", ""), password=config.get("SMTP_PASSWORD", ""),
            starttls=bool(config.get("SMTP_STARTTLS", False)), mail_from=config["MAIL_FROM"]))

    def get_dependency(self, worker_ctx: Any) -> SmtpTransport:
        return self.transport


class MailContextProvider(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        config = self.container.config
        self.context = MailContext(config["PUBLIC_BASE_URL"], config["MAIL_FROM"])

    def get_dependency(self, worker_ctx: Any) -> MailContext:
        return self.context
