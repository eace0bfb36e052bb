"""The checked-in DEVELOPMENT-ONLY credentials (``config/dev-departments.yaml``).

``dev_keys_in_store(settings)`` is intake's production probe (``pantau_platform.production``):
one problem per ACTIVE key of the credential store whose key id or secret is in the dev file.
Secrets are compared only when they open with the configured master key (the AMQP ingress does
not hold it; key ids are enough there: ``bootstrap-dev`` always uses the dev key ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pantau_intake.domain.departments import DepartmentRef
from pantau_platform.settings import REPO_ROOT

if TYPE_CHECKING:
    from pantau_intake.adapters.credential_store import CredentialStore
    from pantau_intake.settings import IntakeSettings

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


def dev_keys_in_store(settings: IntakeSettings, path: Path = DEV_FILE) -> list[str]:
    """Problems: active development keys in the credential store (see the module docstring)."""
    from pantau_intake.adapters.credential_store import CredentialStore
    from pantau_intake.adapters.secretbox import SecretBox

    dev = load_dev_departments(path)
    dev_ids, dev_secrets = {d.key_id for d in dev}, {d.secret for d in dev}
    store = CredentialStore(settings.credentials_database_url,
                            SecretBox(settings.intake_master_key))
    try:
        return [f"the credential store (PANTAU_INTAKE_DATABASE_URL) holds the active development "
                f"key {key_id} (public, {path.name}); revoke it: python -m "
                f"pantau_intake.credentials revoke {key_id}"
                for key_id in _active_dev_keys(store, dev_ids, dev_secrets)]
    finally:
        store.dispose()


def _active_dev_keys(store: CredentialStore, dev_ids: set[str],
                     dev_secrets: set[str]) -> list[str]:
    found = []
    for record in store.list():
        if not record.active:
            continue
        if record.key_id in dev_ids:
            found.append(record.key_id)
            continue
        try:
            key = store.active_key(record.key_id)
        except Exception:  # noqa: BLE001, S112 - sealed with another master key: ids only
            continue
        if key is not None and key.secret in dev_secrets:
            found.append(record.key_id)
    return found
