"""The nameko service of the mailer: thin entrypoints over ``service.follow``.

* ``consume_cases`` (``publishing.follow``, batched): decode, queue update mails, commit — the
  batch is acked after the method returned, i.e. after the commit; contract violations are
  dead-lettered with their reason; the citizen store away holds the batch
  (``DependencyUnavailable``) instead of dead-lettering anything.
* ``send_outbox`` (timer): send due mails; a mail leaves the outbox only once the SMTP server
  accepted it; failures are retried with back-off. Each run is counted by result in
  ``pantau_mail_outbox_total`` (alert: ``PantauMailNotSent``).
* ``purge`` (timer): followers of cases closed 30 days ago, unconfirmed ones after 48 h.
Nothing here logs an address.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.timer import timer

from pantau_contracts.routing import FOLLOW_QUEUE
from pantau_nameko.batching import Delivery, batch_consume
from pantau_nameko.failures import DependencyUnavailable
from pantau_nameko.health import Health, HealthServer
from pantau_nameko.metrics import MetricsServer
from pantau_platform.metrics import record_mail
from pantau_platform.sql import StoreUnavailable
from pantau_publishing.adapters.citizen_store import SqlFollowStore
from pantau_publishing.adapters.smtp import SmtpTransport
from pantau_publishing.mailer.dependencies import (
    FollowStoreProvider,
    MailContextProvider,
    SmtpProvider,
)
from pantau_publishing.service.follow import NotifyFollowers, SendOutbox
from pantau_publishing.service.follow_mail import MailContext

log = logging.getLogger(__name__)
SEND_INTERVAL = 1.0  # seconds between outbox runs
PURGE_INTERVAL = 60.0


class MailerService:
    name = "publishing_mailer"

    store: SqlFollowStore = FollowStoreProvider()
    transport: SmtpTransport = SmtpProvider()
    context: MailContext = MailContextProvider()
    health: Health = HealthServer()  # GET /healthz, /readyz on HEALTH_PORT (settings: 8107)
    metrics = MetricsServer()  # GET /metrics on METRICS_PORT (settings: 9107)

    @batch_consume(FOLLOW_QUEUE, config_prefix="MAILER")
    def consume_cases(self, deliveries: list[Delivery]) -> dict[int, dict[str, Any]]:
        try:
            queued, poison = NotifyFollowers(self.store, self.context).handle_messages(
                [delivery.body for delivery in deliveries], time.time())
        except StoreUnavailable as exc:
            raise DependencyUnavailable("citizen-store", str(exc),
                                        probe=self.store.ping) from exc
        if queued:
            log.info("queued %d update mail(s) from %d case event(s)", queued, len(deliveries))
        return poison

    @timer(interval=SEND_INTERVAL)
    def send_outbox(self) -> None:
        try:
            outcome = SendOutbox(self.store, self.transport).run(time.time())
        except StoreUnavailable as exc:
            log.warning("outbox not sent: %s", exc)
            return
        record_mail(outcome)
        if outcome.sent or outcome.failed or outcome.dropped:
            log.info("outbox: %s", outcome)

    @timer(interval=PURGE_INTERVAL)
    def purge(self) -> None:
        try:
            deleted = self.store.purge(time.time())
        except StoreUnavailable as exc:
            log.warning("purge postponed: %s", exc)
            return
        if deleted:
            log.info("purged %d follower(s) past their retention", deleted)
