"""The faults of the matrix. Each one is applied, held for the duration, then lifted — the killed
server restarted (``infra/stack.sh up``) or process started again, a stopped server continued, held
connections released — and ``restore`` undoes whatever is left even when the run failed midway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg2

from tests.chaos import stack

if TYPE_CHECKING:
    from tests.chaos.harness import ChaosRun


@dataclass
class Fault:
    name: str
    what: str  # one line for the docs and the report
    info: dict[str, Any] = field(default_factory=dict)

    def apply(self, run: ChaosRun) -> None:
        raise NotImplementedError

    def lift(self, run: ChaosRun) -> None:
        """Give the dependency back; returns once it answers again."""
        raise NotImplementedError

    def restore(self, run: ChaosRun) -> None:
        """Best effort, idempotent: nothing of the fault may outlive the test."""


@dataclass
class KillServer(Fault):
    """SIGKILL a stack server with every process it started; after the duration, wait until the
    kernel has reaped them (a restart checks the old PID) and ``stack.sh up <service>``."""

    service: str = ""
    pids: list[int] = field(default_factory=list)

    def apply(self, run: ChaosRun) -> None:
        running = stack.status(self.service)
        assert running is not None, f"{self.service} is not running"
        self.pids = stack.kill_tree(running.pid)
        self.info["killed_pids"] = len(self.pids)

    def lift(self, run: ChaosRun) -> None:
        stack.wait_gone(self.pids)
        self.info["restart_s"] = round(stack.up(self.service), 1)

    def restore(self, run: ChaosRun) -> None:
        if stack.status(self.service) is None:
            stack.wait_gone(self.pids)
            stack.up(self.service)


@dataclass
class StopServer(Fault):
    """SIGSTOP a stack server and its descendants (hung, not dead: connections stay open and
    nothing answers); SIGCONT after the duration."""

    service: str = ""
    pids: list[int] = field(default_factory=list)

    def apply(self, run: ChaosRun) -> None:
        running = stack.status(self.service)
        assert running is not None, f"{self.service} is not running"
        self.pids = stack.stop_tree(running.pid)
        self.info["stopped_pids"] = len(self.pids)

    def lift(self, run: ChaosRun) -> None:
        stack.cont(self.pids)
        self.pids = []
        self.info["ready_s"] = round(stack.up(self.service), 1)

    def restore(self, run: ChaosRun) -> None:
        if self.pids:
            stack.cont(self.pids)
            self.pids = []


REFUSED = ("too many clients", "connection slots are reserved")


@dataclass
class RefuseConnections(Fault):
    """PostgreSQL at ``max_connections``: the harness opens connections as Pantau's role until
    the server answers "too many clients" (or only reserved slots are left), and terminates the
    run's other sessions so Pantau's pools must reconnect — and are refused — for the duration.
    Released (closed) after it."""

    holders: list[Any] = field(default_factory=list)

    def _fill(self, run: ChaosRun) -> None:
        for _ in range(2000):
            try:
                connection = psycopg2.connect(run.database_url, connect_timeout=5)
            except psycopg2.OperationalError as exc:
                if any(text in str(exc) for text in REFUSED):
                    self.info["refusal"] = str(exc).strip().splitlines()[0]
                    return
                raise
            connection.autocommit = True
            self.holders.append(connection)
        raise AssertionError("PostgreSQL never refused a connection (max_connections?)")

    def _terminate_others(self) -> int:
        mine = [c.info.backend_pid for c in self.holders]
        with self.holders[0].cursor() as cursor:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> ALL(%s) "
                           "AND backend_type = 'client backend'", (mine,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def apply(self, run: ChaosRun) -> None:
        terminated = 0
        self._fill(run)
        # Terminated sessions free their slots; fill again until none of the run's is left.
        for _ in range(10):
            ended = self._terminate_others()
            terminated += ended
            self._fill(run)
            if not ended:
                break
        self.info.update(held=len(self.holders), terminated=terminated)

    def lift(self, run: ChaosRun) -> None:
        self.restore(run)
        self.info["ready_s"] = round(stack.up("postgres"), 1)

    def restore(self, run: ChaosRun) -> None:
        for connection in self.holders:
            try:
                connection.close()
            except psycopg2.Error:
                pass
        self.holders = []


@dataclass
class KillProcess(Fault):
    """SIGKILL one Pantau process; started again (same state) after the duration."""

    module: str = ""

    def apply(self, run: ChaosRun) -> None:
        run.system.crash(self.module)

    def lift(self, run: ChaosRun) -> None:
        run.system.start(self.module)

    def restore(self, run: ChaosRun) -> None:
        if self.module not in run.system.processes:
            run.system.start(self.module)


PROCESS_NAMES = {"pantau_tracking": "tracking", "pantau_intake.ingress": "intake-ingress",
                 "pantau_intake.http": "intake-http", "pantau_publishing.indexer": "indexer",
                 "pantau_publishing.portal": "portal"}


def catalogue() -> list[Fault]:
    """Every fault, in the order the matrix runs them (fresh objects: they hold state)."""
    faults: list[Fault] = [
        KillProcess(f"{name}-sigkill", f"SIGKILL of {name} ({module}), started again after",
                    module=module)
        for module, name in PROCESS_NAMES.items()]
    faults += [
        KillServer("rabbitmq-sigkill", "SIGKILL of RabbitMQ (beam and its helpers), then "
                   "infra/stack.sh up rabbitmq", service="rabbitmq"),
        KillServer("postgres-sigkill", "SIGKILL of PostgreSQL (postmaster and backends), then "
                   "infra/stack.sh up postgres", service="postgres"),
        StopServer("postgres-sigstop", "SIGSTOP of PostgreSQL (every process), then SIGCONT",
                   service="postgres"),
        RefuseConnections("postgres-max-connections",
                          "every PostgreSQL connection slot taken (\"too many clients\") and the "
                          "run's sessions terminated, then released"),
        KillServer("elasticsearch-sigkill", "SIGKILL of Elasticsearch, then infra/stack.sh up "
                   "elasticsearch", service="elasticsearch"),
        StopServer("elasticsearch-sigstop", "SIGSTOP of Elasticsearch, then SIGCONT",
                   service="elasticsearch"),
    ]
    return faults


FAULT_NAMES = [f.name for f in catalogue()]
