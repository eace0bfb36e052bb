"""Per-department RabbitMQ users, applied through the management API (idempotent PUTs).

For department ``{j}/{d}`` the user ``dept.{j}.{d}`` gets, on the Pantau vhost:

* configure: nothing (``^$``) — it cannot declare or delete anything;
* write: only the exchange ``pantau.ingress``;
* read: only its own feedback queue ``feedback.{j}.{d}`` (declared here, quorum, bound to
  ``pantau.feedback`` with ``{j}.{d}``, bounded by a policy);
* topic permission on ``pantau.ingress``: write only routing keys ``^{j}\\.{d}\\.`` — RabbitMQ
  refuses (channel error 403) a publish with another department's key.

Publishing with ``user_id = dept.{j}.{d}`` lets intake's ingress know who sent a message:
RabbitMQ refuses a ``user_id`` that differs from the connection's user.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pantau_contracts.routing import FEEDBACK_EXCHANGE, INGRESS_EXCHANGE, feedback_queue
from pantau_intake.domain.departments import DepartmentRef
from pantau_platform.topology import ManagementClient

FEEDBACK_QUEUE_ARGUMENTS = {"x-queue-type": "quorum"}
FEEDBACK_POLICY = "pantau-feedback-bounded"
FEEDBACK_MAX_LENGTH = 10_000
"""A department that never reads its feedback queue must not grow the broker without bound: a
policy keeps the newest 10 000 rejection records (the dead letters keep the full reasons)."""


def vhost_of(amqp_url: str) -> str:
    return urlsplit(amqp_url).path.lstrip("/") or "/"


def apply_department_user(client: ManagementClient, department: DepartmentRef,
                          password: str) -> str:
    """Create/update the department's user, permissions and feedback queue. Returns the user."""
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
    return user


def _dots(name: str) -> str:
    return name.replace(".", "\\.")
