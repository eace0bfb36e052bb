"""The cluster of ``infra/cluster.sh`` (3 RabbitMQ nodes, 3 Elasticsearch nodes, two instances of
every Pantau process) for ``tests/cluster``. Collected only when ``-m cluster`` is asked for
(``make test-cluster``): a bare ``pytest`` skips it, like the chaos matrix it signals processes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO

CLUSTER_SH = REPO / "infra" / "cluster.sh"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "cluster" in (config.option.markexpr or "") and "not cluster" not in config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="the multi-node run: make test-cluster (pytest -m cluster)")
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(skip)


def cluster_sh(command: str, timeout: float = 900) -> str:
    answer = subprocess.run(["bash", str(CLUSTER_SH), command], cwd=REPO, capture_output=True,
                            text=True, timeout=timeout)
    if answer.returncode != 0:
        pytest.fail(f"infra/cluster.sh {command} failed ({answer.returncode}):\n"
                    f"{answer.stdout[-2000:]}\n{answer.stderr[-4000:]}")
    return answer.stdout


@dataclass
class Cluster:
    """Where the cluster's pids are, and its environment (``infra/cluster.sh env``)."""

    env: dict[str, str]
    state: Path
    logs: list[str] = field(default_factory=list)

    def pidfile(self, component: str) -> Path:
        """``rabbitmq-1``, ``elasticsearch-1`` or a Pantau process ``tracking-1``."""
        kind, node = component.rsplit("-", 1)
        if kind in ("rabbitmq", "elasticsearch"):
            return self.state / f"{component}" / "pids" / f"{kind}.pid"
        return self.state / "pids" / f"{component}.pid"

    def pid(self, component: str) -> int:
        return int(self.pidfile(component).read_text().split()[0])

    def up(self) -> str:
        """Start whatever is down and wait until everything is ready (idempotent)."""
        return cluster_sh("up")

    def exited(self) -> list[str]:
        """Pantau processes not running (``infra/cluster.sh status``)."""
        answer = subprocess.run(["bash", str(CLUSTER_SH), "status"], cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        return [line for line in answer.stdout.splitlines() if "stopped" in line]


def cluster_env() -> dict[str, str]:
    env = {}
    for line in cluster_sh("env").splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    return env


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    cluster_sh("up")
    env = cluster_env()
    state = Path(env["PANTAU_STATE_DIR"]).parent  # <state>/cluster
    yield Cluster({**os.environ, **env, "PANTAU_INDEX_ALIAS": "pantau-cases",
                   "PANTAU_CHANGES_ALIAS": "pantau-changes"}, state)
    cluster_sh("up")  # whatever happened, leave it whole
