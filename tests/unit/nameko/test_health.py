"""``pantau_nameko.health``: the registry and its WSGI app, without a server."""

from __future__ import annotations

import json
import pickle
from typing import Any

from pantau_nameko import health
from pantau_nameko.failures import DependencyUnavailable, probe_answers
from pantau_nameko.health import Health, HealthServer


def call(wsgi: Any, path: str, method: str = "GET") -> tuple[str, dict[str, str], Any]:
    seen: dict[str, Any] = {}

    def start_response(code: str, headers: list[tuple[str, str]]) -> None:
        seen["code"], seen["headers"] = code, dict(headers)

    body = b"".join(wsgi({"REQUEST_METHOD": method, "PATH_INFO": path}, start_response))
    return seen["code"], seen["headers"], json.loads(body) if body else None


def test_ready_until_a_dependency_is_waited_for() -> None:
    now = [1_700_000_000.0]
    registry = Health(clock=lambda: now[0])
    assert registry.status() == {"status": "ready", "waiting_for": [], "since": None}
    registry.degraded("database")
    now[0] += 5
    registry.degraded("elasticsearch")
    registry.degraded("database")  # idempotent: the first time stays
    assert registry.status() == {"status": "degraded", "waiting_for": ["database", "elasticsearch"],
                                 "since": "2023-11-14T22:13:20Z",
                                 "detail": "waiting for database, elasticsearch"}
    registry.recovered("database")
    assert registry.status()["waiting_for"] == ["elasticsearch"]
    assert registry.status()["since"] == "2023-11-14T22:13:25Z"
    registry.recovered("elasticsearch")
    registry.recovered("broker")  # never waited for: no-op
    assert registry.is_ready()


def test_a_dependency_stays_listed_until_every_holder_recovered() -> None:
    registry = Health()
    registry.degraded("database", holder="tracking.accepted")
    registry.degraded("database", holder="tracking.timer")
    registry.recovered("database", holder="tracking.accepted")
    assert registry.waiting_for() == ["database"]
    registry.recovered("database", holder="tracking.timer")
    assert registry.is_ready()


def test_module_functions_use_the_process_registry() -> None:
    try:
        health.degraded("broker", holder="t")
        assert health.status()["detail"] == "waiting for broker"
        assert not health.is_ready()
    finally:
        health.recovered("broker", holder="t")
    assert health.is_ready()


def test_readyz_is_503_with_the_detail_while_degraded_and_200_after() -> None:
    registry = Health()
    wsgi = health.app(registry)
    code, headers, body = call(wsgi, "/readyz")
    assert code == "200 OK" and body["status"] == "ready"
    assert headers["Content-Type"] == "application/json"
    registry.degraded("database")
    code, _, body = call(wsgi, "/readyz")
    assert code.startswith("503") and body["detail"] == "waiting for database"
    assert body["status"] == "degraded" and body["waiting_for"] == ["database"]
    code, _, body = call(wsgi, "/healthz")  # alive all along
    assert code == "200 OK" and body == {"status": "alive"}
    registry.recovered("database")
    assert call(wsgi, "/readyz")[0] == "200 OK"


def test_other_paths_and_methods() -> None:
    wsgi = health.app(Health())
    assert call(wsgi, "/")[0].startswith("404")
    code, headers, _ = call(wsgi, "/readyz", method="POST")
    assert code.startswith("405") and headers["Allow"] == "GET, HEAD"
    code, _, body = call(wsgi, "/healthz", method="HEAD")
    assert code == "200 OK" and body is None


class FakeContainer:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config


def provider(config: dict[str, Any]) -> HealthServer:
    server = HealthServer()
    server.container = FakeContainer(config)
    server.setup()
    return server


def test_the_server_is_off_without_a_port() -> None:
    for config in ({}, {"HEALTH_PORT": 0}, {"HEALTH_PORT": ""}):
        server = provider(config)
        server.start()  # binds nothing
        assert server.port == 0 and server._bound is None
        server.stop()
    server = provider({"HEALTH_PORT": "8101", "HEALTH_HOST": "0.0.0.0"})
    assert (server.host, server.port) == ("0.0.0.0", 8101)
    assert provider({"HEALTH_PORT": 8101}).host == "127.0.0.1"
    assert server.get_dependency(None) is health.registry


def test_dependency_unavailable_carries_what_is_away() -> None:
    def probe() -> bool:
        return True

    exc = DependencyUnavailable("database", "connection refused", probe=probe)
    assert (exc.dependency, exc.detail, exc.probe) == ("database", "connection refused", probe)
    assert str(exc) == "database unavailable: connection refused"
    assert str(DependencyUnavailable("broker")) == "broker unavailable"
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.dependency, copy.detail, copy.probe) == ("database", "connection refused", None)


def test_a_probe_that_raises_is_a_no() -> None:
    def broken() -> bool:
        raise OSError("refused")

    assert probe_answers(None) is True
    assert probe_answers(lambda: True) is True
    assert probe_answers(lambda: False) is False
    assert probe_answers(broken) is False
