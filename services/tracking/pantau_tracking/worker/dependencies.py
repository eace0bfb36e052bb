"""``TrackingRuntime``: the dependency provider that builds tracking's adapters once per process
(engine + migrations, store, catalogue, handler, outbox relay, the transparency log's sequencer
and its signing key) and runs the relay loop.

The relay loop flushes the outbox when kicked (right after a batch commits, after an overdue
scan) and every ``relay_interval`` seconds as a safety net. The retention purge (sent outbox rows,
old dedup records) runs from its own timer in the service, off the event path.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from pantau_contracts.catalogue import load_catalogue
from pantau_nameko import metrics
from pantau_tracking.adapters.clock import SystemClock
from pantau_tracking.adapters.database import create_engine, migrate
from pantau_tracking.adapters.log_backfill import backfill_log
from pantau_tracking.adapters.metrics import OutboxGauges, SlaGauges
from pantau_tracking.adapters.relay import OutboxRelay, relay_publisher
from pantau_tracking.adapters.retention import RetentionPurger
from pantau_tracking.adapters.store import SqlStore
from pantau_tracking.service.handler import TrackingHandler
from pantau_tracking.settings import TrackingSettings
from pantau_transparency.keys import load_signer
from pantau_transparency.sql import Sequencer, SequencerResult

log = logging.getLogger(__name__)


class Runtime:
    """What service methods get: the use cases and a way to wake the relay."""

    def __init__(self, handler: TrackingHandler, relay: OutboxRelay,
                 retention: RetentionPurger, transparency: Sequencer) -> None:
        self.handler = handler
        self.relay = relay
        self.retention = retention
        self.transparency = transparency
        self._kicked = threading.Event()
        self._log_backfilled = False
        self.outbox_gauges = OutboxGauges(relay.store)  # refreshed at each scrape
        self.sla_gauges = SlaGauges(relay.store)  # refreshed by the service's timer

    def maintain_log(self, checkpoint_interval: float) -> SequencerResult:
        """Once per process, queue history recorded before the log existed (``log_backfill``);
        then sequence the queue and sign a checkpoint when one is due."""
        if not self._log_backfilled:
            backfill_log(self.store)
            self._log_backfilled = True
        return self.transparency.run(checkpoint_interval)

    @property
    def store(self) -> SqlStore:
        """The store (its ``ping`` probes the database while a batch is held)."""
        return self.relay.store

    def kick_relay(self) -> None:
        self._kicked.set()

    def relay_loop(self, interval: float, running: threading.Event) -> None:
        """Flush when kicked or every ``interval`` s. A failure (broker or database away) leaves
        the rows unsent; the loop backs off (1 s doubling up to 5 s) and resumes by itself —
        logged when it starts failing and when it recovers, not per attempt."""
        failing = 0
        while running.is_set():
            self._kicked.wait(timeout=interval)
            self._kicked.clear()
            try:
                sent = self.relay.flush()
            except Exception as exc:  # noqa: BLE001 - rows stay unsent and are retried
                failing += 1
                if failing == 1:
                    log.warning("outbox relay failed (%s: %s); retrying until it works",
                                type(exc).__name__, str(exc)[:300],
                                exc_info=self.store.unavailable(exc) is None)
                eventlet.sleep(min(2.0 ** (failing - 1), 5.0))
                continue
            if failing:
                log.info("outbox relay resumed after %d failed attempt(s)", failing)
                failing = 0
            if sent:
                log.debug("outbox relay published %d message(s)", sent)


class TrackingRuntime(DependencyProvider):
    def setup(self) -> None:
        settings = TrackingSettings()
        self.settings = settings
        self.engine = create_engine(settings.effective_database_url)
        migrate(self.engine)
        store = SqlStore(self.engine)
        clock = SystemClock()
        handler = TrackingHandler(
            store, load_catalogue(), clock,
            pending_timeout=timedelta(seconds=settings.tracking_pending_timeout))
        retention = RetentionPurger.from_settings(store, clock, settings)
        self.publisher = relay_publisher(settings.service_amqp_url("tracking"))
        signer = load_signer(settings.transparency_signing_key, state_dir=settings.state_dir,
                             production=settings.production)
        sequencer = Sequencer(self.engine, signer, settings.transparency_origin, clock,
                              lock=store.write_lock if store.is_sqlite else None)
        log.info("transparency log signs with key %s", signer.key_id)
        self.runtime = Runtime(handler, OutboxRelay(store, self.publisher), retention, sequencer)
        self._running = threading.Event()
        log.info("tracking store ready (%s)", self.engine.dialect.name)

    def start(self) -> None:
        metrics.register_collector(self.runtime.outbox_gauges.refresh)
        self._running.set()
        self._gt = self.container.spawn_managed_thread(
            lambda: self.runtime.relay_loop(self.settings.tracking_relay_interval,
                                            self._running), identifier="outbox_relay")

    def stop(self) -> None:
        metrics.unregister_collector(self.runtime.outbox_gauges.refresh)
        self._running.clear()
        self.runtime.kick_relay()
        self._gt.wait()
        self.publisher.close()
        self.engine.dispose()

    def kill(self) -> None:
        self._running.clear()
        self._gt.kill()

    def get_dependency(self, worker_ctx: Any) -> Runtime:
        return self.runtime
