"""``/metrics`` of a nameko process: a dependency provider serving Prometheus on its own port.

    from pantau_nameko.metrics import MetricsServer

    class TrackingService:
        metrics = MetricsServer()    # reads METRICS_PORT (0 or missing = off), METRICS_HOST

It serves ``prometheus_client``'s default registry (everything the process recorded, see
``pantau_platform.metrics``) with eventlet's WSGI server in a green thread, exactly as
``pantau_nameko.health`` serves ``/healthz`` — not ``prometheus_client.start_http_server``,
whose OS thread would be a green thread under monkey-patching anyway, and one server model per
process is simpler to reason about. ``METRICS_HOST`` defaults to ``127.0.0.1``: scrape from the
host (or set ``0.0.0.0`` in a pod). Services of one process share one server per (host, port);
a port that cannot be bound is logged and the service runs without it.

Scrape-time values: ``register_collector(fn)`` runs ``fn()`` before each scrape (errors are
logged, the scrape still answers) — how tracking refreshes its outbox gauges.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

__all__ = ["MetricsServer", "app", "register_collector", "start_server"]

log = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
PORT_CONFIG_KEY = "METRICS_PORT"
HOST_CONFIG_KEY = "METRICS_HOST"
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


class _Running:
    def __init__(self, sock: Any, thread: Any) -> None:
        self._sock, self._thread = sock, thread
        self.host, self.port = sock.getsockname()[:2]

    def close(self) -> None:
        self._thread.kill()
        try:
            self._sock.close()
        except OSError:  # already closed
            pass


def start_server(host: str = DEFAULT_HOST, port: int = 0) -> _Running:
    """Bind ``host:port`` (0 = any free port) and serve ``/metrics`` in a green thread."""
    import eventlet
    import eventlet.wsgi

    sock = eventlet.listen((host, int(port)))
    thread = eventlet.spawn(eventlet.wsgi.server, sock, app(), log_output=False, debug=False,
                            socket_timeout=10, keepalive=False)
    running = _Running(sock, thread)
    log.info("metrics server on http://%s:%d/metrics", running.host, running.port)
    return running


_shared: dict[tuple[str, int], tuple[_Running, int]] = {}
_shared_lock = threading.Lock()


class MetricsServer(DependencyProvider):  # type: ignore[misc]
    """Serves ``/metrics`` while the container runs (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        self.host, self.port = DEFAULT_HOST, 0
        self._bound: tuple[str, int] | None = None
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        self.host = str(config.get(HOST_CONFIG_KEY) or DEFAULT_HOST)
        self.port = int(config.get(PORT_CONFIG_KEY) or 0)

    def start(self) -> None:
        if self.port <= 0 or self._bound is not None:
            return
        key = (self.host, self.port)
        with _shared_lock:
            server, users = _shared.get(key, (None, 0))
            if server is None:
                try:
                    server = start_server(*key)
                except OSError as exc:
                    log.error("metrics server could not bind %s:%d (%s); running without it",
                              self.host, self.port, exc)
                    return
            _shared[key] = (server, users + 1)
        self._bound = key

    def stop(self) -> None:
        if self._bound is None:
            return
        with _shared_lock:
            server, users = _shared.pop(self._bound)
            if users > 1:
                _shared[self._bound] = (server, users - 1)
            else:
                server.close()
        self._bound = None

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
