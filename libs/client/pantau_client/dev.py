"""``--dev``: the checked-in DEVELOPMENT-ONLY credentials (``config/dev-departments.yaml``).

Never for production: those secrets are public. The file is read as YAML (pyyaml comes with
``pantau-contracts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pantau_client.identity import Department


@dataclass(frozen=True)
class DevCredentials:
    key_id: str
    secret: str
    amqp_password: str


def dev_credentials(path: Path, department: Department) -> DevCredentials:
    """The dev credentials of ``department`` in ``path`` (``SystemExit`` if absent)."""
    import yaml

    if not path.exists():
        raise SystemExit(f"--dev: {path} not found (set PANTAU_CLIENT_DEV_FILE)")
    for entry in (yaml.safe_load(path.read_text()) or {}).get("departments", []):
        if Department.parse(entry["department"]) == department:
            return DevCredentials(str(entry["key_id"]), str(entry["secret"]),
                                  str(entry["amqp_password"]))
    raise SystemExit(f"--dev: {department} is not in {path}")


def dev_amqp_url(broker_url: str, department: Department, password: str) -> str:
    """``broker_url``'s host, port and vhost, logged in as the department's AMQP user."""
    parts = urlsplit(broker_url)
    return urlunsplit((parts.scheme, f"{department.amqp_user}:{password}@{parts.hostname}:"
                       f"{parts.port or 5672}", parts.path, "", ""))
