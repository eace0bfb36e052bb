"""Who a department is: ``DepartmentRef`` (jurisdiction, department) and the names derived from
it. Defined in ``pantau_contracts.departments``, shared with the department SDK; re-exported here
for intake's domain."""

from __future__ import annotations

from pantau_contracts.departments import AMQP_USER_PREFIX, DepartmentRef

__all__ = ["AMQP_USER_PREFIX", "DepartmentRef"]
