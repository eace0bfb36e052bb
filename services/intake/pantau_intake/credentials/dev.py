"""The checked-in DEVELOPMENT-ONLY credentials (``config/dev-departments.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from pantau_intake.domain.departments import DepartmentRef
from pantau_platform.settings import REPO_ROOT

DEV_FILE = REPO_ROOT / "config" / "dev-departments.yaml"


@dataclass(frozen=True)
class DevDepartment:
    department: DepartmentRef
    key_id: str
    secret: str
    amqp_password: str


def load_dev_departments(path: Path = DEV_FILE) -> list[DevDepartment]:
    raw = yaml.safe_load(path.read_text()) or {}
    result = []
    for entry in raw.get("departments", []):
        result.append(DevDepartment(department=DepartmentRef.parse(entry["department"]),
                                    key_id=str(entry["key_id"]), secret=str(entry["secret"]),
                                    amqp_password=str(entry["amqp_password"])))
    return result


def dev_department(department: str, path: Path = DEV_FILE) -> DevDepartment:
    """The dev credentials of ``jurisdiction/department`` (KeyError if absent)."""
    wanted = DepartmentRef.parse(department)
    for entry in load_dev_departments(path):
        if entry.department == wanted:
            return entry
    raise KeyError(department)
