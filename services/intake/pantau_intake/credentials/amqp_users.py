"""Per-department RabbitMQ users, applied through the management API (idempotent PUTs).

For department ``{j}/{d}`` the user ``dept.{j}.{d}`` gets, on the Pantau vhost:

* configure: nothing (``^$``) — it cannot declare or delete anything;
* write: only the exchange ``pantau.ingress``;
* read: only its own feedback queue ``feedback.{j}.{d}`` (declared here, quorum, bound to
  ``pantau.feedback`` with ``{j}.{d}``, bounded by a policy);
* topic permission on ``pantau.ingress``: write only routing keys ``^{j}\\.{d}\\.`` — RabbitMQ
  refuses (channel error 403) a publish with another department's key;
* its own ingress queue ``intake.ingress.{j}.{d}`` (bound from ``pantau.ingress`` with
  ``{j}.{d}.#``, at most ``PANTAU_INGRESS_QUEUE_MAX_LENGTH`` messages, ``reject-publish``): a
  department that floods is nacked (its client spools) while the others keep flowing. The
  department cannot read it; intake's ingress consumes it (catalogue departments);
* user limits ``max-connections`` / ``max-channels`` (``PANTAU_INTAKE_DEPARTMENT_MAX_*``): one
  department cannot exhaust the broker's connections or channels.

Publishing with ``user_id = dept.{j}.{d}`` lets intake's ingress know who sent a message:
RabbitMQ refuses a ``user_id`` that differs from the connection's user.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pantau_contracts.routing import FEEDBACK_EXCHANGE, INGRESS_EXCHANGE, feedback_queue
from pantau_intake.domain.departments import DepartmentRef
from pantau_platform.endpoints import first_url
from pantau_platform.topology import ManagementClient, ensure_department_ingress

FEEDBACK_QUEUE_ARGUMENTS = {"x-queue-type": "quorum"}
FEEDBACK_POLICY = "pantau-feedback-bounded"
FEEDBACK_MAX_LENGTH = 10_000
"""A department that never reads its feedback queue must not grow the broker without bound: a
policy keeps the newest 10 000 rejection records (the dead letters keep the full reasons)."""


def vhost_of(amqp_url: str) -> str:
    return urlsplit(first_url(amqp_url)).path.lstrip("/") or "/"


DEFAULT_MAX_CONNECTIONS = 10
DEFAULT_MAX_CHANNELS = 50


def apply_department_user(client: ManagementClient, department: DepartmentRef,
                          password: str, *, max_length: int = 10_000,
                          max_connections: int = DEFAULT_MAX_CONNECTIONS,
                          max_channels: int = DEFAULT_MAX_CHANNELS) -> str:
    """Create/update the department's user, permissions, limits, feedback queue and ingress
    queue. Returns the user."""
    user = department.amqp_user
    j, d = department.jurisdiction, department.department
    queue = feedback_queue(j, d)
    client.policy(FEEDBACK_POLICY, r"^feedback\.",
                  {"max-length": FEEDBACK_MAX_LENGTH, "overflow": "drop-head"})
    client.queue(queue, FEEDBACK_QUEUE_ARGUMENTS)
    client.bind(FEEDBACK_EXCHANGE, queue, f"{j}.{d}")
    client.user(user, password, tags="")
    client.permissions(user, configure="^$", write=f"^{_dots(INGRESS_EXCHANGE)}$",
                       read=f"^{_dots(queue)}$")
    client.topic_permissions(user, INGRESS_EXCHANGE, write=f"^{j}\\.{d}\\.", read="^$")
    client.user_limit(user, "max-connections", max_connections)
    client.user_limit(user, "max-channels", max_channels)
    ensure_department_ingress(client, j, d, max_length)
    return user


def _dots(name: str) -> str:
    return name.replace(".", "\\.")
