"""The small HTTP listener of a nameko process's side ports: ``/healthz`` and ``/metrics``.

One implementation for both servers: ``pantau_nameko.health.HealthServer`` and
``pantau_nameko.metrics.MetricsServer`` are ``ListenerProvider``s that only name their config
keys and their WSGI app; each still listens on its own port (``HEALTH_PORT``, ``METRICS_PORT``:
0 or missing = no server; ``*_HOST`` defaults to ``127.0.0.1``).

* The server is eventlet's WSGI server in a green thread (the process runs under eventlet; an
  OS-thread server would be a green thread under monkey-patching anyway).
* Services run in one process share one server per (kind, host, port), counted by users: the
  last service to stop closes it. The kind is part of the key so that a health and a metrics
  provider configured on one port never share one server (it serves one app), just as when
  each module kept its own servers.
* A port that cannot be bound is logged as an error and the service runs without it (a
  readiness check or a scrape then fails to connect; the work goes on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from nameko.extensions import DependencyProvider

__all__ = ["DEFAULT_HOST", "ListenerProvider", "RunningServer", "WsgiApp", "start_server"]

log = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
WsgiApp = Callable[..., Iterable[bytes]]


class RunningServer:
    """One bound server (eventlet WSGI in a green thread)."""

    def __init__(self, sock: Any, thread: Any) -> None:
        self._sock, self._thread = sock, thread
        self.host, self.port = sock.getsockname()[:2]

    def close(self) -> None:
        self._thread.kill()
        try:
            self._sock.close()
        except OSError:  # already closed
            pass


def start_server(host: str, port: int, app: WsgiApp) -> RunningServer:
    """Bind ``host:port`` (0 = any free port) and serve ``app`` in a green thread."""
    import eventlet
    import eventlet.wsgi

    sock = eventlet.listen((host, int(port)))
    thread = eventlet.spawn(eventlet.wsgi.server, sock, app, log_output=False, debug=False,
                            socket_timeout=10, keepalive=False)
    return RunningServer(sock, thread)


_Key = tuple[str, str, int]  # (kind, host, port)
_shared: dict[_Key, tuple[RunningServer, int]] = {}  # key -> (server, users)
_shared_lock = threading.Lock()


def _acquire(key: _Key, app: Callable[[], WsgiApp], paths: str) -> RunningServer:
    with _shared_lock:
        server, users = _shared.get(key, (None, 0))
        if server is None:
            server = start_server(key[1], key[2], app())
            log.info("%s server on http://%s:%d%s", key[0].lower(), server.host, server.port,
                     paths)
        _shared[key] = (server, users + 1)
        return server


def _release(key: _Key) -> None:
    with _shared_lock:
        server, users = _shared.get(key, (None, 0))
        if server is None:
            return
        if users <= 1:
            del _shared[key]
            server.close()
        else:
            _shared[key] = (server, users - 1)


class ListenerProvider(DependencyProvider):  # type: ignore[misc]
    """Serves ``wsgi_app()`` on ``<KIND>_HOST:<KIND>_PORT`` while the container runs.

    A subclass sets ``kind`` (the config key prefix, ``"HEALTH"`` or ``"METRICS"``), ``paths``
    (for the start-up log line) and ``wsgi_app``; ``get_dependency`` is the subclass's too."""

    kind = ""
    paths = ""

    def __init__(self, **kwargs: Any) -> None:
        self.host, self.port = DEFAULT_HOST, 0
        self._bound: _Key | None = None
        super().__init__(**kwargs)

    def wsgi_app(self) -> WsgiApp:
        raise NotImplementedError

    def setup(self) -> None:
        config = self.container.config
        self.host = str(config.get(f"{self.kind}_HOST") or DEFAULT_HOST)
        self.port = int(config.get(f"{self.kind}_PORT") or 0)

    def start(self) -> None:
        if self.port <= 0 or self._bound is not None:
            return
        key = (self.kind, self.host, self.port)
        try:
            _acquire(key, self.wsgi_app, self.paths)
        except OSError as exc:
            log.error("%s server could not bind %s:%d (%s); running without it",
                      self.kind.lower(), self.host, self.port, exc)
            return
        self._bound = key

    def stop(self) -> None:
        if self._bound is not None:
            _release(self._bound)
            self._bound = None

    def kill(self) -> None:
        self.stop()
