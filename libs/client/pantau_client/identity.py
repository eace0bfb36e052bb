"""Who is sending: a department of a jurisdiction and the names Pantau derives from it.

``Department`` is ``pantau_contracts.departments.DepartmentRef`` — the one definition intake
checks against: the CloudEvents ``source`` is ``/{jurisdiction}/{department}`` and the
department's RabbitMQ user is ``dept.{jurisdiction}.{department}``. E.g.
``Department.parse("kota-bandung/dpmptsp")``.
"""

from __future__ import annotations

from pantau_contracts.departments import DepartmentRef as Department

__all__ = ["Department"]
