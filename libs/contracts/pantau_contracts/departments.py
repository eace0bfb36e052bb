"""Who a department is: (jurisdiction, department) and the names derived from it — part of the
wire contract, so intake (which checks them) and the department SDK (which follows them) share
this one definition: the CloudEvents ``source`` is ``/{jurisdiction}/{department}`` and the
department's RabbitMQ user is ``dept.{jurisdiction}.{department}``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
AMQP_USER_PREFIX = "dept."


@dataclass(frozen=True, order=True)
class DepartmentRef:
    """A department of a jurisdiction, e.g. ``kota-bandung/dpmptsp``."""

    jurisdiction: str
    department: str

    def __post_init__(self) -> None:
        for value in (self.jurisdiction, self.department):
            if not _CODE.match(value):
                raise ValueError(f"{value!r} is not a valid code (lower-case letters, digits, -)")

    @classmethod
    def parse(cls, text: str) -> DepartmentRef:
        """``kota-bandung/dpmptsp`` (or ``/kota-bandung/dpmptsp``) → DepartmentRef."""
        parts = text.strip("/").split("/")
        if len(parts) != 2:
            raise ValueError(f"{text!r} is not jurisdiction/department")
        return cls(parts[0], parts[1])

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` this department emits under."""
        return f"/{self.jurisdiction}/{self.department}"

    @property
    def amqp_user(self) -> str:
        """The department's RabbitMQ user; RabbitMQ checks it against the ``user_id`` property."""
        return f"{AMQP_USER_PREFIX}{self.jurisdiction}.{self.department}"

    @classmethod
    def from_amqp_user(cls, user: str | None) -> DepartmentRef | None:
        if not user or not user.startswith(AMQP_USER_PREFIX):
            return None
        rest = user[len(AMQP_USER_PREFIX):].split(".")
        if len(rest) != 2:
            return None
        try:
            return cls(rest[0], rest[1])
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.jurisdiction}/{self.department}"
