"""``/metrics`` of a nameko process: a dependency provider serving Prometheus on its own port.

    from pantau_nameko.metrics import MetricsServer

    class TrackingService:
        metrics = MetricsServer()    # reads METRICS_PORT (0 or missing = off), METRICS_HOST

It serves ``prometheus_client``'s default registry (everything the process recorded, see
``pantau_platform.metrics``) through ``pantau_nameko.listener``, the same listener as
``pantau_nameko.health``'s ``/healthz`` (on its own port) — not
``prometheus_client.start_http_server``, whose OS thread would be a green thread under
monkey-patching anyway, and one server model per process is simpler to reason about.
``METRICS_HOST`` defaults to ``127.0.0.1``: scrape from the host (or set ``0.0.0.0`` in a pod).
Services of one process share one server per (host, port); a port that cannot be bound is
logged and the service runs without it.

Scrape-time values: ``register_collector(fn)`` runs ``fn()`` before each scrape (errors are
logged, the scrape still answers) — how tracking refreshes its outbox gauges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from pantau_nameko.listener import ListenerProvider

__all__ = ["MetricsServer", "app", "register_collector", "unregister_collector"]

log = logging.getLogger(__name__)
_collectors: list[Callable[[], None]] = []


def register_collector(refresh: Callable[[], None]) -> None:
    """Run ``refresh`` before every scrape (e.g. to set gauges from a cheap query)."""
    _collectors.append(refresh)


def unregister_collector(refresh: Callable[[], None]) -> None:
    if refresh in _collectors:
        _collectors.remove(refresh)


def _refresh() -> None:
    for refresh in list(_collectors):
        try:
            refresh()
        except Exception:  # noqa: BLE001 - a failing gauge must not fail the whole scrape
            log.warning("metrics collector %r failed", refresh, exc_info=True)


def app() -> Callable[..., Iterable[bytes]]:
    """The WSGI application: ``GET /metrics`` (Prometheus text format), 404 elsewhere."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (environ.get("PATH_INFO") or "/") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        _refresh()
        data = generate_latest(REGISTRY)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                  ("Content-Length", str(len(data)))])
        return [data]

    return wsgi


class MetricsServer(ListenerProvider):
    """Serves ``/metrics`` while the container runs (see the module docstring)."""

    kind = "METRICS"
    paths = "/metrics"

    def wsgi_app(self) -> Callable[..., Iterable[bytes]]:
        return app()

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
