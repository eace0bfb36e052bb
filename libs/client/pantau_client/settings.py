"""The client's own settings: ``PANTAU_CLIENT_*`` environment variables (CLI flags override).

    PANTAU_CLIENT_DEPARTMENT   jurisdiction/department
    PANTAU_CLIENT_HTTP_URL     intake's base URL (default http://127.0.0.1:8001)
    PANTAU_CLIENT_KEY_ID, PANTAU_CLIENT_SECRET     the department's HTTP key
    PANTAU_CLIENT_AMQP_URL     amqp://dept.<j>.<d>:<password>@host:5672/pantau
    PANTAU_CLIENT_SPOOL        the AMQP spool file (default ./pantau-spool-<j>-<d>.jsonl)
    PANTAU_CLIENT_DEV_FILE     DEVELOPMENT ONLY: the checked-in dev credentials used by ``--dev``
                               (default config/dev-departments.yaml under the current directory)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HTTP_URL = "http://127.0.0.1:8001"
DEFAULT_DEV_AMQP = "amqp://127.0.0.1:5672/pantau"


@dataclass(frozen=True)
class ClientSettings:
    department: str = ""
    http_url: str = DEFAULT_HTTP_URL
    key_id: str = ""
    secret: str = ""
    amqp_url: str = ""
    spool: str = ""
    dev_file: Path = Path("config/dev-departments.yaml")
    dev_amqp_url: str = DEFAULT_DEV_AMQP
    """Where ``--dev`` connects (host, port, vhost of ``PANTAU_AMQP_URL`` when set)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientSettings:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(f"PANTAU_CLIENT_{name}") or default

        return cls(department=get("DEPARTMENT"), http_url=get("HTTP_URL", DEFAULT_HTTP_URL),
                   key_id=get("KEY_ID"), secret=get("SECRET"), amqp_url=get("AMQP_URL"),
                   spool=get("SPOOL"),
                   dev_file=Path(get("DEV_FILE", "config/dev-departments.yaml")),
                   dev_amqp_url=env.get("PANTAU_AMQP_URL") or DEFAULT_DEV_AMQP)
