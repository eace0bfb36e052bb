"""Typed settings from environment variables, with safe loopback defaults.

Each process builds one settings object at start (``XSettings()``); the names are the
``PANTAU_*`` variables that ``infra/stack.sh env`` prints and ``docker-compose.yml`` sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]


class PantauSettings(BaseSettings):
    """What every Pantau process needs."""

    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore", frozen=True)

    # PANTAU_ENV: anything but these two words is refused at start ("prod" must not quietly
    # mean development and its generated keys).
    env: Literal["development", "production"] = "development"
    amqp_url: str = "amqp://pantau:pantau@127.0.0.1:5672/pantau"
    amqp_management_url: str = "http://pantau:pantau@127.0.0.1:15672"
    log_level: str = "INFO"
    state_dir: Path = REPO_ROOT / ".state"


    @property
    def production(self) -> bool:
        return self.env == "production"


class ElasticsearchSettings(PantauSettings):
    elasticsearch_url: str = "http://127.0.0.1:9200"
    index_alias: str = "pantau-cases"


class DatabaseSettings(PantauSettings):
    database_url: str = ""  # empty: SQLite in the state folder (see ``effective_database_url``)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.state_dir / 'tracking.sqlite3'}"
