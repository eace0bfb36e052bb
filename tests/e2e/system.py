"""The whole Pantau system as real subprocesses, for the end-to-end tests.

``running_system`` gives each test module a private RabbitMQ vhost (no other consumer can take its
messages), unique Elasticsearch aliases, its own state folder and ports, the dev department
credentials, and every process (`PROCESSES`) — and removes all of it afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pantau_platform.identities import identity_url
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import ManagementClient, apply
from pantau_tools import ready
from tests.conftest import ES_URL, MGMT_URL, REPO, ServiceProcess

PROCESSES = ["pantau_tracking", "pantau_intake.ingress", "pantau_intake.http",
             "pantau_intake.outcomes", "pantau_publishing.indexer", "pantau_publishing.portal",
             "pantau_publishing.mailer"]


@dataclass
class System:
    """The running processes (by module; a restart replaces the entry) and their environment."""

    env: dict[str, str]
    state: Path
    per_process_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    stopped: list[ServiceProcess] = field(default_factory=list)

    @property
    def amqp_url(self) -> str:
        return self.env["PANTAU_AMQP_URL"]

    def start(self, module: str) -> ServiceProcess:
        runs = sum(1 for p in self.stopped if p.module == module)
        process = ServiceProcess(module, {**self.env, **self.per_process_env.get(module, {})},
                                 self.state / f"{module}.{runs}.log")
        self.processes[module] = process
        return process

    def crash(self, module: str) -> None:
        """SIGKILL: no shutdown handler runs, in-flight work is cut off."""
        process = self.processes.pop(module)
        process.proc.kill()
        process.proc.wait(timeout=10)
        process.stop()  # closes the log file
        self.stopped.append(process)

    def logs(self) -> str:
        """The end of every process's log, without access/health-check lines."""
        def tail(process: ServiceProcess) -> str:
            lines = [line for line in process.log().splitlines()
                     if "uvicorn.access" not in line and "elastic_transport" not in line]
            return "\n".join(lines)[-3000:]
        return "\n".join(f"--- {p.module} ({p.log_path.name})\n{tail(p)}"
                         for p in [*self.stopped, *self.processes.values()])


@contextmanager
def running_system(amqp_url: str, state: Path, *, name: str, intake_port: int,
                   portal_port: int,
                   per_process_env: Mapping[str, Mapping[str, str]] | None = None,
                   catalogue_dir: Path | None = None) -> Iterator[System]:
    """Start everything for one test module (``name`` labels its vhost and aliases).
    ``catalogue_dir``: the service catalogue every process (and the topology) loads
    (``PANTAU_CATALOGUE_DIR``; default the repository's)."""
    run = uuid.uuid4().hex[:8]
    vhost_url = f"{amqp_url.rsplit('/', 1)[0]}/pantau_{name}_{run}"
    settings = PantauSettings(amqp_url=vhost_url, amqp_management_url=MGMT_URL)
    catalogue_env = {"PANTAU_CATALOGUE_DIR": str(catalogue_dir)} if catalogue_dir else {}
    with pytest.MonkeyPatch.context() as patch:  # the topology declares its departments' queues
        for key, value in catalogue_env.items():
            patch.setenv(key, value)
        apply(settings, service_users=True)
    # every process connects as its own least-privilege user (docs/architecture.md,
    # "Identities"); PANTAU_AMQP_URL (the operator) is for the tools and the tests themselves
    identities = {f"PANTAU_{name.upper()}_AMQP_URL": identity_url(vhost_url, f"pantau-{name}")
                  for name in ("intake", "tracking", "indexer", "mailer")}
    env = {**os.environ, **identities, "PANTAU_AMQP_URL": vhost_url,
           "PANTAU_AMQP_MANAGEMENT_URL": MGMT_URL,
           "PANTAU_ELASTICSEARCH_URL": ES_URL, "PANTAU_STATE_DIR": str(state),
           "PANTAU_INDEX_ALIAS": f"pantau-{name}-{run}-cases",
           "PANTAU_CHANGES_ALIAS": f"pantau-{name}-{run}-changes",
           "PANTAU_INTAKE_PORT": str(intake_port), "PANTAU_PORTAL_PORT": str(portal_port),
           **catalogue_env}
    system = System(env, state, per_process_env or {})
    try:
        for command in (["bootstrap-dev"], ["apply-amqp", "--dev"]):
            subprocess.run([sys.executable, "-m", "pantau_intake.credentials", *command],
                           cwd=REPO, env=env, check=True, capture_output=True)
        for module in PROCESSES:
            system.start(module)
        problems = ready.wait(90, urls=[f"http://127.0.0.1:{intake_port}/readyz",
                                        f"http://127.0.0.1:{portal_port}/readyz"],
                              settings=settings)
        if problems:
            pytest.fail(f"system not ready: {problems}\n{system.logs()}")
        yield system
    finally:
        for process in system.processes.values():
            process.stop()
        for alias in (env["PANTAU_INDEX_ALIAS"], env["PANTAU_CHANGES_ALIAS"]):
            indices = httpx.get(f"{ES_URL}/_alias/{alias}", timeout=10)
            for index in indices.json() if indices.status_code == 200 else []:
                httpx.delete(f"{ES_URL}/{index}", timeout=10)
        ManagementClient(MGMT_URL, vhost_url.rsplit("/", 1)[1]).delete_vhost()
