"""Apply the RabbitMQ topology (``infra/rabbitmq/topology.json``) through the management HTTP API.

Idempotent: every call is a PUT of the declared state, so running it at every start is harmless.
Used by ``make run``/``make test`` and the compose ``topology`` job, so the topology never depends
on which process happens to start first. Department users are applied by intake's credentials
command through ``ManagementClient``; ``--service-users`` also applies the service identities
(``pantau_platform.identities``).

Besides the file: every department of the service catalogue gets its own ingress queue
``intake.ingress.{jurisdiction}.{department}`` bound from ``pantau.ingress`` with its own
routing keys (``ensure_department_ingress``, also run by ``apply-amqp``); what no department
queue routes goes through ``pantau.ingress``'s alternate exchange to the catch-all
``intake.ingress``. A policy bounds every ingress queue to ``PANTAU_INGRESS_QUEUE_MAX_LENGTH``
messages with ``overflow: reject-publish``: a department that floods fills only its own queue,
its further publishes are nacked (its client spools), and the others keep flowing.
``retired_bindings`` in the file are removed (the old ``#`` binding to ``intake.ingress``), only
after the department queues are bound, so no message is dropped or doubled on the way.

    python -m pantau_platform.topology [--file infra/rabbitmq/topology.json] [--service-users]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from pantau_contracts.catalogue import Catalogue, load_catalogue
from pantau_contracts.routing import (
    INGRESS_EXCHANGE,
    INGRESS_UNROUTED_EXCHANGE,
    department_binding_key,
    department_ingress_queue,
)
from pantau_platform.endpoints import first_url
from pantau_platform.identities import apply_service_users
from pantau_platform.settings import REPO_ROOT, PantauSettings

log = logging.getLogger(__name__)
TOPOLOGY_FILE = REPO_ROOT / "infra" / "rabbitmq" / "topology.json"
INGRESS_QUEUE_ARGUMENTS = {"x-queue-type": "quorum", "x-dead-letter-exchange": "pantau.dlx",
                           "x-delivery-limit": 5}
"""Every ingress queue's arguments (``intake.ingress`` in the file has the same)."""
INGRESS_POLICY = "pantau-ingress-bounded"
INGRESS_ALTERNATE_POLICY = "pantau-ingress-alternate"


class ManagementClient:
    """A thin client for the RabbitMQ management API of one vhost."""

    def __init__(self, management_url: str, vhost: str) -> None:
        parts = urlsplit(management_url)
        self._client = httpx.Client(
            base_url=f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api",
            auth=(parts.username or "guest", parts.password or "guest"), timeout=10.0)
        self.vhost = vhost
        self._v = quote(vhost, safe="")

    def _put(self, path: str, body: dict[str, Any]) -> None:
        response = self._client.put(path, json=body)
        if response.status_code not in (200, 201, 204):
            raise RuntimeError(f"PUT {path}: {response.status_code} {response.text}")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._client.get("/overview").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("RabbitMQ management API did not answer")
            time.sleep(0.5)

    def ensure_vhost(self, user: str) -> None:
        """Create the vhost if needed and give ``user`` (the management user) full rights on it."""
        self._put(f"/vhosts/{self._v}", {})
        self.permissions(user, ".*", ".*", ".*")

    def delete_vhost(self) -> None:
        """Remove the vhost and everything in it (used by tests that made their own)."""
        self._client.delete(f"/vhosts/{self._v}")

    def exchange(self, name: str, type: str = "topic", durable: bool = True) -> None:
        self._put(f"/exchanges/{self._v}/{quote(name, safe='')}",
                  {"type": type, "durable": durable, "auto_delete": False})

    def queue(self, name: str, arguments: dict[str, Any], durable: bool = True) -> None:
        self._put(f"/queues/{self._v}/{quote(name, safe='')}",
                  {"durable": durable, "auto_delete": False, "arguments": arguments})

    def bind(self, source: str, destination: str, routing_key: str) -> None:
        response = self._client.post(
            f"/bindings/{self._v}/e/{quote(source, safe='')}/q/{quote(destination, safe='')}",
            json={"routing_key": routing_key})
        if response.status_code not in (201, 204):
            raise RuntimeError(f"bind {source}->{destination}: {response.text}")

    def unbind(self, source: str, destination: str, routing_key: str) -> None:
        """Remove a binding without arguments (absent: nothing to do)."""
        response = self._client.delete(
            f"/bindings/{self._v}/e/{quote(source, safe='')}/q/{quote(destination, safe='')}/"
            f"{quote(routing_key or '~', safe='')}")
        if response.status_code not in (200, 204, 404):
            raise RuntimeError(f"unbind {source}->{destination}: {response.text}")

    def user_limit(self, user: str, name: str, value: int) -> None:
        """``max-connections`` / ``max-channels`` of ``user`` (broker-wide)."""
        self._put(f"/user-limits/{quote(user, safe='')}/{name}", {"value": value})

    def policy(self, name: str, pattern: str, definition: dict[str, Any],
               apply_to: str = "queues", priority: int = 0) -> None:
        self._put(f"/policies/{self._v}/{quote(name, safe='')}",
                  {"pattern": pattern, "definition": definition, "apply-to": apply_to,
                   "priority": priority})

    def user(self, name: str, password: str, tags: str = "") -> None:
        self._put(f"/users/{quote(name, safe='')}", {"password": password, "tags": tags})

    def permissions(self, user: str, configure: str, write: str, read: str) -> None:
        self._put(f"/permissions/{self._v}/{quote(user, safe='')}",
                  {"configure": configure, "write": write, "read": read})

    def topic_permissions(self, user: str, exchange: str, write: str, read: str) -> None:
        self._put(f"/topic-permissions/{self._v}/{quote(user, safe='')}",
                  {"exchange": exchange, "write": write, "read": read})

    def queue_info(self, name: str) -> dict[str, Any]:
        response = self._client.get(f"/queues/{self._v}/{quote(name, safe='')}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def purge(self, name: str) -> None:
        self._client.delete(f"/queues/{self._v}/{quote(name, safe='')}/contents")


def ensure_department_ingress(client: ManagementClient, jurisdiction: str, department: str,
                              max_length: int) -> str:
    """The department's own bounded ingress queue, bound to its routing keys. Returns its name."""
    queue: str = department_ingress_queue(jurisdiction, department)
    ingress_policies(client, max_length)
    client.queue(queue, INGRESS_QUEUE_ARGUMENTS)
    client.bind(INGRESS_EXCHANGE, queue, department_binding_key(jurisdiction, department))
    return queue


def ingress_policies(client: ManagementClient, max_length: int) -> None:
    """Bound every ``intake.ingress*`` queue (reject-publish: the publisher sees a nack) and
    send what no department queue routes to the catch-all ``intake.ingress``."""
    client.policy(INGRESS_POLICY, r"^intake\.ingress(\.|$)",
                  {"max-length": max_length, "overflow": "reject-publish"})
    client.policy(INGRESS_ALTERNATE_POLICY, f"^{re.escape(INGRESS_EXCHANGE)}$",
                  {"alternate-exchange": INGRESS_UNROUTED_EXCHANGE}, apply_to="exchanges")


def catalogue_departments(catalogue: Catalogue | None = None) -> list[tuple[str, str]]:
    """``(jurisdiction, department)`` of every catalogue department, sorted."""
    catalogue = catalogue or load_catalogue()
    return sorted((j.code, d.code) for j in catalogue.jurisdictions.values()
                  for d in j.departments.values())


def apply(settings: PantauSettings | None = None, path: Path = TOPOLOGY_FILE, *,
          service_users: bool = False) -> dict[str, int]:
    """Declare every exchange, queue, binding and policy of the topology file and the catalogue
    departments' ingress queues (see the module docstring). Returns counts."""
    settings = settings or PantauSettings()
    vhost = urlsplit(first_url(settings.amqp_url)).path.lstrip("/") or "/"
    client = ManagementClient(settings.amqp_management_url, vhost)
    client.wait_ready()
    client.ensure_vhost(urlsplit(settings.amqp_management_url).username or "guest")
    spec = json.loads(path.read_text())
    for ex in spec["exchanges"]:
        client.exchange(ex["name"], ex.get("type", "topic"), ex.get("durable", True))
    for q in spec["queues"]:
        client.queue(q["name"], q.get("arguments", {}), q.get("durable", True))
    for b in spec["bindings"]:
        client.bind(b["source"], b["destination"], b["routing_key"])
    for p in spec.get("policies", []):
        client.policy(p["name"], p["pattern"], p["definition"], p.get("apply-to", "queues"),
                      p.get("priority", 0))
    departments = catalogue_departments()
    for jurisdiction, department in departments:
        ensure_department_ingress(client, jurisdiction, department,
                                  settings.ingress_queue_max_length)
    for b in spec.get("retired_bindings", []):  # only now: the department queues are bound
        client.unbind(b["source"], b["destination"], b["routing_key"])
    if service_users:
        apply_service_users(client, production=settings.production)
    counts = {k: len(spec.get(k, [])) for k in ("exchanges", "queues", "bindings", "policies")}
    counts["department_queues"] = len(departments)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply Pantau's RabbitMQ topology")
    parser.add_argument("--file", type=Path, default=TOPOLOGY_FILE)
    parser.add_argument("--service-users", action="store_true",
                        help="also create the service users and their permissions "
                             "(infra/rabbitmq/identities.tsv; passwords PANTAU_AMQP_PASSWORD_*)")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    counts = apply(path=args.file, service_users=args.service_users)
    log.info("RabbitMQ topology applied: %s", counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
