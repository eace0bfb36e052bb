"""The outcomes process's settings (``PANTAU_INTAKE_OUTCOMES_*``, ``PANTAU_INTAKE_WEBHOOK_*``)
on top of intake's own. A subclass, so intake's other processes are not burdened with them."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from pantau_intake.domain.webhooks import Backoff
from pantau_intake.settings import IntakeSettings


class OutcomesSettings(IntakeSettings):
    # the batch consumer on intake.outcomes (one transaction per batch)
    intake_outcomes_batch_size: int = Field(200, ge=1)
    intake_outcomes_batch_wait_ms: float = 50.0
    intake_outcomes_prefetch: int = Field(500, ge=1)
    intake_outcomes_delivery_limit: int = 5  # = intake.outcomes's x-delivery-limit
    intake_outcomes_unknown_retries: int = 3
    # how long an event's outcome is kept (GET /v1/events/{id}, GET /v1/refusals)
    intake_outcomes_retention_days: float = Field(30, gt=0)
    # webhooks: delivery timer, per-attempt timeout, parallel POSTs per tick, back-off
    intake_webhook_tick_seconds: float = Field(1.0, gt=0)
    intake_webhook_timeout_seconds: float = Field(10.0, gt=0)
    intake_webhook_concurrency: int = Field(8, ge=1)
    intake_webhook_batch: int = Field(50, ge=1)
    intake_webhook_backoff_base_seconds: float = Field(10.0, gt=0)
    intake_webhook_backoff_cap_seconds: float = Field(3600.0, gt=0)
    intake_webhook_retry_hours: float = Field(24.0, gt=0)  # then the delivery is dead
    outcomes_health_port: int = 8105  # PANTAU_OUTCOMES_HEALTH_PORT (0: off)
    outcomes_metrics_port: int = 9105  # PANTAU_OUTCOMES_METRICS_PORT (0: off)

    @property
    def webhook_backoff(self) -> Backoff:
        return Backoff(base=timedelta(seconds=self.intake_webhook_backoff_base_seconds),
                       cap=timedelta(seconds=self.intake_webhook_backoff_cap_seconds),
                       retry_for=timedelta(hours=self.intake_webhook_retry_hours))
