"""Who is sending: a department of a jurisdiction and the names Pantau derives from it.

These are the conventions intake checks (``pantau_intake.domain.departments.DepartmentRef``
follows the same ones): the CloudEvents ``source`` is ``/{jurisdiction}/{department}`` and the
department's RabbitMQ user is ``dept.{jurisdiction}.{department}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class Department:
    """E.g. ``Department.parse("kota-bandung/dpmptsp")``."""

    jurisdiction: str
    department: str

    def __post_init__(self) -> None:
        for value in (self.jurisdiction, self.department):
            if not _CODE.match(value):
                raise ValueError(f"{value!r} is not a valid code (lower-case letters, digits, -)")

    @classmethod
    def parse(cls, text: str) -> Department:
        """``kota-bandung/dpmptsp`` (or ``/kota-bandung/dpmptsp``) → Department."""
        parts = text.strip("/").split("/")
        if len(parts) != 2:
            raise ValueError(f"{text!r} is not jurisdiction/department")
        return cls(parts[0], parts[1])

    @property
    def source(self) -> str:
        return f"/{self.jurisdiction}/{self.department}"

    @property
    def amqp_user(self) -> str:
        return f"dept.{self.jurisdiction}.{self.department}"

    def __str__(self) -> str:
        return f"{self.jurisdiction}/{self.department}"
