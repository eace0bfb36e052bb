"""Pantau's service identities on RabbitMQ: each process kind connects as its own user with only
its own exchanges and queues (least privilege; docs/architecture.md, "Identities").

The table is ``infra/rabbitmq/identities.tsv`` (user, configure, write, read regexes), read here
and by ``infra/lib/rabbitmq.sh``, so the local stack, compose and the tests apply the same
rights. ``apply_service_users`` creates/updates the users and sets their permissions on one
vhost (idempotent PUTs). Passwords: ``PANTAU_AMQP_PASSWORD_<NAME>`` (``pantau-intake`` →
``PANTAU_AMQP_PASSWORD_INTAKE``); in development a missing one is the documented development
password ``dev_password(user)``; production refuses to make a user without its own password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from pantau_platform.endpoints import split_urls
from pantau_platform.settings import REPO_ROOT

IDENTITIES_FILE = REPO_ROOT / "infra" / "rabbitmq" / "identities.tsv"


@dataclass(frozen=True)
class Identity:
    """One service user and its three permission regexes on the Pantau vhost."""

    user: str
    configure: str
    write: str
    read: str

    @property
    def password_variable(self) -> str:
        return "PANTAU_AMQP_PASSWORD_" + self.user.removeprefix("pantau-").upper()


class PermissionsApi(Protocol):
    def user(self, name: str, password: str, tags: str = "") -> None: ...

    def permissions(self, user: str, configure: str, write: str, read: str) -> None: ...


def load_identities(path: Path = IDENTITIES_FILE) -> dict[str, Identity]:
    """The table, keyed by user (``#`` lines are comments)."""
    identities = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        user, configure, write, read = line.split("\t")
        identities[user] = Identity(user, configure, write, read)
    return identities


def dev_password(user: str) -> str:
    """DEVELOPMENT ONLY: the password ``infra/lib/rabbitmq.sh`` gives a service user locally."""
    return f"{user}-dev-only"


def password_for(identity: Identity, env: Mapping[str, str], production: bool) -> str:
    password = env.get(identity.password_variable, "")
    if password:
        return password
    if production:
        raise ValueError(f"{identity.password_variable} must be set in production")
    return dev_password(identity.user)


def apply_service_users(client: PermissionsApi, *, production: bool = False,
                        env: Mapping[str, str] | None = None,
                        path: Path = IDENTITIES_FILE) -> list[str]:
    """Create/update every service user and its permissions on ``client``'s vhost."""
    env = os.environ if env is None else env
    users = []
    for identity in load_identities(path).values():
        client.user(identity.user, password_for(identity, env, production))
        client.permissions(identity.user, identity.configure, identity.write, identity.read)
        users.append(identity.user)
    return users


def identity_url(amqp_url: str, user: str, password: str | None = None) -> str:
    """``amqp_url`` (its host and vhost) with ``user``'s credentials; the development password
    when ``password`` is None. A list of URLs (a cluster's nodes) gives the list, each with the
    credentials, in kombu's ``;`` form."""
    return ";".join(_with_login(url, user, password) for url in split_urls(amqp_url))


def _with_login(amqp_url: str, user: str, password: str | None) -> str:
    parts = urlsplit(amqp_url)
    host = parts.hostname or "127.0.0.1"
    netloc = (f"{quote(user, safe='')}:{quote(password or dev_password(user), safe='')}@{host}"
              f"{f':{parts.port}' if parts.port else ''}")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
