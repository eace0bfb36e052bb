"""Health of a nameko process: a process-wide registry plus a tiny HTTP server.

The registry records which dependencies the process is waiting for. ``batch_consume`` marks
``degraded(dependency)`` while it holds a batch through an outage (see
:mod:`pantau_nameko.failures`) and ``recovered(dependency)`` once the batch went through;
timers and other code may call the same functions::

    from pantau_nameko import health

    health.degraded("database")       # "waiting for database"
    health.recovered("database")
    health.status()  # {"status": "ready", "waiting_for": [], "since": None}
                     # {"status": "degraded", "waiting_for": ["database"],
                     #  "since": "2025-01-01T00:00:00Z", "detail": "waiting for database"}

Several holders may wait for the same dependency (two consumers, say); pass ``holder=`` to tell
them apart — the dependency stays listed until every holder recovered. ``since`` is when the
oldest wait still open began (UTC, ISO 8601).

The HTTP server (``pantau_nameko.listener``: eventlet's WSGI server, shared with ``/metrics``'s
implementation but on its own port) answers

* ``GET /healthz`` → 200 ``{"status": "alive"}`` while the process runs;
* ``GET /readyz``  → 200 ``{"status": "ready", ...}``, or 503
  ``{"status": "degraded", "detail": "waiting for database", "waiting_for": [...], "since": ...}``.

A service declares it as a dependency provider; it reads the container config keys
``HEALTH_PORT`` (0 or missing = no server) and ``HEALTH_HOST`` (default ``127.0.0.1``)::

    from pantau_nameko.health import HealthServer

    class TrackingService:
        name = "tracking"
        health = HealthServer()     # self.health is the registry (degraded/recovered/status)

    ServiceRunner({"AMQP_URI": ..., "HEALTH_PORT": 8101, "HEALTH_HOST": "127.0.0.1"})

Services run in one process share one server per (host, port). A port that cannot be bound is
logged as an error; the service still runs (a readiness check then fails to connect).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pantau_nameko.listener import ListenerProvider

__all__ = ["Health", "HealthServer", "app", "degraded", "is_ready", "recovered", "registry",
           "status"]


class Health:
    """Which dependencies this process waits for, by whom and since when."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[str, dict[str, float]] = {}  # dependency -> {holder: since}

    def degraded(self, dependency: str, holder: str = "") -> None:
        """Mark the process as waiting for ``dependency`` (idempotent per holder)."""
        with self._lock:
            self._waiting.setdefault(dependency, {}).setdefault(holder, self._clock())

    def recovered(self, dependency: str, holder: str = "") -> None:
        """``holder`` no longer waits for ``dependency`` (a no-op if it did not)."""
        with self._lock:
            holders = self._waiting.get(dependency)
            if holders is None:
                return
            holders.pop(holder, None)
            if not holders:
                del self._waiting[dependency]

    def waiting_for(self) -> list[str]:
        with self._lock:
            return sorted(self._waiting)

    def is_ready(self) -> bool:
        with self._lock:
            return not self._waiting

    def status(self) -> dict[str, Any]:
        """``{"status": "ready"|"degraded", "waiting_for": [...], "since": ISO|None}`` plus
        ``"detail": "waiting for a, b"`` when degraded."""
        with self._lock:
            waiting = sorted(self._waiting)
            starts = [t for holders in self._waiting.values() for t in holders.values()]
        if not waiting:
            return {"status": "ready", "waiting_for": [], "since": None}
        since = datetime.fromtimestamp(min(starts), UTC).isoformat().replace("+00:00", "Z")
        return {"status": "degraded", "waiting_for": waiting, "since": since,
                "detail": "waiting for " + ", ".join(waiting)}

    def reset(self) -> None:
        """Forget every wait (tests)."""
        with self._lock:
            self._waiting.clear()


registry = Health()
"""The process-wide registry."""


def degraded(dependency: str, holder: str = "") -> None:
    registry.degraded(dependency, holder)


def recovered(dependency: str, holder: str = "") -> None:
    registry.recovered(dependency, holder)


def status() -> dict[str, Any]:
    return registry.status()


def is_ready() -> bool:
    return registry.is_ready()


# -- HTTP --------------------------------------------------------------------------------------

def app(health: Health = registry) -> Callable[..., Iterable[bytes]]:
    """The WSGI application serving ``/healthz`` and ``/readyz`` for ``health``."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        if path not in ("/healthz", "/readyz"):
            code, body = "404 Not Found", {"status": "not-found", "detail": path}
        elif method not in ("GET", "HEAD"):
            code, body = "405 Method Not Allowed", {"status": "method-not-allowed"}
        elif path == "/healthz":
            code, body = "200 OK", {"status": "alive"}
        else:
            body = health.status()
            code = "200 OK" if body["status"] == "ready" else "503 Service Unavailable"
        data = json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                   ("Cache-Control", "no-store")]
        if code.startswith("405"):
            headers.append(("Allow", "GET, HEAD"))
        start_response(code, headers)
        return [] if method == "HEAD" else [data]

    return wsgi


class HealthServer(ListenerProvider):
    """Serves this process's health over HTTP while the container runs (see the module
    docstring; the listener is ``pantau_nameko.listener``'s); the injected value is the
    process-wide :class:`Health` registry."""

    kind = "HEALTH"
    paths = " (/healthz, /readyz)"

    def wsgi_app(self) -> Callable[..., Iterable[bytes]]:
        return app(registry)

    def get_dependency(self, worker_ctx: Any) -> Health:
        return registry
