"""Production start-up checks: a process with development credentials refuses to start.

Contract
--------
* ``check(settings, *, needs=(), found=())`` lists the problems that forbid a production start,
  each naming the ``PANTAU_*`` setting to fix and never repeating a secret:
  - every ``*_url`` setting the process was given (AMQP, management, database, Elasticsearch,
    per-service ``PANTAU_<SERVICE>_AMQP_URL`` — whatever is set in its environment) or ``needs``,
    whose password is a development one: ``pantau`` or ``guest`` (the stack's defaults), the
    user name itself, any ``*password*`` value of ``config/dev-*.yaml``, or a value marked
    ``NOT-FOR-PRODUCTION`` or ``dev-only`` (the service users' ``<user>-dev-only``,
    ``pantau_platform.identities``);
  - every secret setting named in ``needs`` (e.g. ``transparency_signing_key``) that is empty or
    a development-only value (marked ``NOT-FOR-PRODUCTION``, like the dev master key);
  - ``found``: problems a service's own probe found (e.g. development department keys in intake's
    credential store), passed through.
  A URL left at its default and not in ``needs`` is not looked at: the defaults (e.g. the
  operator's ``PANTAU_AMQP_URL``) are development values a production process that does not use
  them should not be handed at all — least privilege. ``check`` does not look at ``PANTAU_ENV``:
  it says what production would refuse.
* ``refuse_to_start(problems)`` raises ``SystemExit`` (exit status 1) with one message listing
  every problem; nothing when the list is empty.
* ``enforce(settings, *, needs=(), probe=None)`` is the one call each process makes at start:
  in development it does nothing (not even the probe); in production it runs ``probe()`` and
  ``check`` and refuses to start on any problem. A probe that fails is itself a problem (the
  check fails closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from pydantic_settings import BaseSettings

from pantau_platform.settings import REPO_ROOT

DEV_MARKER = "NOT-FOR-PRODUCTION"
DEV_MARKERS = (DEV_MARKER.lower(), "dev-only")  # compared in lower case
DEFAULT_PASSWORDS = frozenset({"pantau", "guest"})  # infra/stack.sh, compose, RabbitMQ's own
DEV_CONFIG_DIR = REPO_ROOT / "config"

Probe = Callable[[], Iterable[str]]


def _passwords_in(node: Any) -> Iterator[str]:
    """Every string value under a key containing "password", at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and "password" in str(key).lower():
                yield value
            else:
                yield from _passwords_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _passwords_in(item)


@cache
def dev_passwords(config_dir: Path = DEV_CONFIG_DIR) -> frozenset[str]:
    """The defaults plus every password of the checked-in development files (public)."""
    found: set[str] = set(DEFAULT_PASSWORDS)
    for path in sorted(config_dir.glob("dev-*.y*ml")):
        found.update(_passwords_in(yaml.safe_load(path.read_text()) or {}))
    return frozenset(found)


def env_name(settings: BaseSettings, field: str) -> str:
    prefix = str(settings.model_config.get("env_prefix") or "")
    return f"{prefix}{field}".upper()


def _marked_dev(value: str) -> bool:
    return any(marker in value.lower() for marker in DEV_MARKERS)


def _is_dev_password(user: str, password: str) -> bool:
    return password in dev_passwords() or password == user or _marked_dev(password)


def url_problems(settings: BaseSettings, needs: Iterable[str] = ()) -> list[str]:
    """Development passwords in the URL settings that were set, or that the process needs."""
    problems = []
    for field in sorted(set(settings.model_fields_set) | set(needs)):
        value = getattr(settings, field, None)
        if not field.endswith("_url") or not isinstance(value, str) or not value:
            continue
        parts = urlsplit(value)
        if parts.password is None:
            continue
        user = unquote(parts.username or "")
        if _is_dev_password(user, unquote(parts.password)):
            problems.append(f"{env_name(settings, field)} uses a development password for user "
                            f"{user!r} (public default); give it the URL of an account with a "
                            "production password")
    return problems


def secret_problems(settings: BaseSettings, needs: Iterable[str]) -> list[str]:
    problems = []
    for field in needs:
        value = str(getattr(settings, field, "") or "").strip()
        name = env_name(settings, field)
        if not value:
            problems.append(f"{name} is not set; this process needs it in production")
        elif _marked_dev(value):
            problems.append(f"{name} is the public development-only value; set a production "
                            "secret")
    return problems


def check(settings: BaseSettings, *, needs: Iterable[str] = (),
          found: Iterable[str] = ()) -> list[str]:
    """Everything that forbids starting this process in production (see the module contract)."""
    needs = list(needs)
    return [*url_problems(settings, needs), *secret_problems(settings, needs), *found]


def refuse_to_start(problems: Iterable[str]) -> None:
    problems = list(problems)
    if not problems:
        return
    lines = "\n".join(f"  - {problem}" for problem in problems)
    raise SystemExit(
        f"Pantau refuses to start in production (PANTAU_ENV=production): {len(problems)} "
        f"problem(s) with development credentials or missing secrets:\n{lines}\n"
        "Fix these settings (see docker-compose.prod.yml); development machines "
        "run with PANTAU_ENV=development.")


def _run_probe(probe: Probe) -> list[str]:
    try:
        return list(probe())
    except Exception as exc:  # noqa: BLE001 - fail closed, whatever the probe's failure
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        return [f"the production check could not run ({type(exc).__name__}: {detail})"]


def enforce(settings: BaseSettings, *, needs: Iterable[str] = (),
            probe: Probe | None = None) -> None:
    """The start-up call of every process: refuse to start in production on any problem."""
    if getattr(settings, "env", "development") != "production":
        return
    refuse_to_start(check(settings, needs=needs, found=_run_probe(probe) if probe else ()))
