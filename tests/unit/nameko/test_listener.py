"""``pantau_nameko.listener``: health and metrics share one server implementation, each on its
own port; services of one process share a server per (kind, host, port); a port in use is
logged and the service runs without it."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from pantau_nameko import listener
from pantau_nameko.health import HealthServer
from pantau_nameko.listener import ListenerProvider
from pantau_nameko.metrics import MetricsServer


class FakeContainer:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config


def provider(cls: type[ListenerProvider], config: dict[str, Any]) -> ListenerProvider:
    server = cls()
    server.container = FakeContainer(config)
    server.setup()
    return server


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    yield free
    assert not listener._shared, "a test left a server bound"


def can_bind(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_each_server_reads_its_own_keys() -> None:
    config = {"HEALTH_PORT": 8101, "METRICS_PORT": "9101", "METRICS_HOST": "0.0.0.0"}
    health, metrics = provider(HealthServer, config), provider(MetricsServer, config)
    assert (health.host, health.port) == ("127.0.0.1", 8101)
    assert (metrics.host, metrics.port) == ("0.0.0.0", 9101)
    assert provider(MetricsServer, {}).port == 0


def test_services_of_one_process_share_a_server_until_the_last_stops(port: int) -> None:
    first = provider(MetricsServer, {"METRICS_PORT": port})
    second = provider(MetricsServer, {"METRICS_PORT": port})
    first.start()
    second.start()
    assert list(listener._shared.values())[0][1] == 2 and not can_bind(port)
    first.stop()
    assert not can_bind(port)  # the second service still serves
    second.kill()
    assert not listener._shared and can_bind(port)


def test_health_and_metrics_on_one_port_never_share_a_server(port: int) -> None:
    health = provider(HealthServer, {"HEALTH_PORT": port})
    metrics = provider(MetricsServer, {"METRICS_PORT": port})
    health.start()
    metrics.start()  # eventlet binds with SO_REUSEPORT: a second server of its own, as before
    servers = {key[0]: server for key, (server, _users) in listener._shared.items()}
    assert set(servers) == {"HEALTH", "METRICS"} and servers["HEALTH"] is not servers["METRICS"]
    health.stop()
    metrics.stop()


def test_a_port_in_use_is_logged_and_the_service_runs_without_it(
        port: int, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:  # no SO_REUSEPORT: nobody else may bind it
        taken.bind(("127.0.0.1", port))
        taken.listen()
        metrics = provider(MetricsServer, {"METRICS_PORT": port})
        with caplog.at_level(logging.ERROR, logger="pantau_nameko.listener"):
            metrics.start()
    assert f"metrics server could not bind 127.0.0.1:{port}" in caplog.text
    assert metrics._bound is None
    metrics.stop()  # a no-op
