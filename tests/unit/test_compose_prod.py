"""docker-compose.prod.yml: production on Docker keeps no development credential.

Like tests/unit/test_compose.py, this keeps the file honest without Docker: every Pantau process
runs with PANTAU_ENV=production; merged over docker-compose.yml, no ``${VAR:-development default}``
and no literal password survives (every secret is ``${VAR:?message}``: compose refuses to start
without it); the topology loads no development departments; and the merged environment, with
real-looking secrets substituted, passes ``pantau_platform.production`` for each process. Where
``docker compose`` exists, ``config`` must fail without the secrets and succeed with them.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from pantau_platform.production import check

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
PROD_TEXT = (ROOT / "docker-compose.prod.yml").read_text()
PROD = yaml.safe_load(PROD_TEXT)["services"]
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")
PROCESSES = {name for name, svc in BASE.items()
             if re.search(r"python -m pantau_", " ".join(svc.get("command", [])))}
SECRET_KEY = re.compile(r"(PASS|PASSWORD|_KEY)$")


def _merged_env(name: str) -> dict[str, str]:
    env: dict[str, Any] = dict(BASE[name].get("environment", {}))
    env.update(PROD.get(name, {}).get("environment", {}))
    return {key: str(value) for key, value in env.items()}


def _fake_secret(variable: str) -> str:
    return f"s3cr3t{zlib.crc32(variable.encode()):08x}{variable.lower().replace('_', '')}"


def _substituted(value: str) -> str:
    return REQUIRED.sub(lambda m: _fake_secret(m.group(1)), value)


def test_every_pantau_process_runs_in_production() -> None:
    assert {"tracking", "intake-http", "intake-ingress", "indexer", "portal", "mailer",
            "topology"} <= PROCESSES
    for name in PROCESSES:
        assert _merged_env(name).get("PANTAU_ENV") == "production", name


@pytest.mark.parametrize("name", sorted(BASE))
def test_no_development_default_or_literal_secret_survives(name: str) -> None:
    for key, value in _merged_env(name).items():
        assert ":-" not in value, f"{name}: {key} keeps a development default"
        url = urlsplit(value)
        if SECRET_KEY.search(key) or (url.scheme and url.password is not None):
            assert REQUIRED.search(value), f"{name}: {key} must be ${{VAR:?message}}"


def test_the_topology_loads_no_development_departments() -> None:
    command = " ".join(PROD["topology"]["command"])
    assert "bootstrap-dev" not in command and "--dev" not in command
    assert "development-only" in PROD["demo"]["profiles"]


@pytest.mark.parametrize("name, module, settings_class, needs", [
    ("tracking", "pantau_tracking.settings", "TrackingSettings",
     ["transparency_signing_key", "tracking_amqp_url"]),
    ("intake-http", "pantau_intake.settings", "IntakeSettings",
     ["intake_master_key", "intake_amqp_url"]),
    ("intake-ingress", "pantau_intake.settings", "IntakeSettings", ["intake_amqp_url"]),
    ("indexer", "pantau_publishing.settings", "PublishingSettings", ["indexer_amqp_url"]),
    ("portal", "pantau_publishing.settings", "PublishingSettings", []),
    ("mailer", "pantau_publishing.settings", "PublishingSettings",
     ["mailer_amqp_url", "citizen_database_url", "smtp_password"]),
    ("topology", "pantau_intake.settings", "IntakeSettings",
     ["intake_master_key", "amqp_url", "amqp_management_url"]),
])
def test_the_merged_environment_passes_the_production_check(
        name: str, module: str, settings_class: str, needs: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("PANTAU_")]:
        monkeypatch.delenv(key)
    for key, value in _merged_env(name).items():
        monkeypatch.setenv(key, _substituted(value))
    settings = getattr(importlib.import_module(module), settings_class)()
    assert settings.production
    assert check(settings, needs=needs) == []


def test_the_base_file_would_be_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is what catches a forgotten override: the base file's tracking environment
    (development defaults) under PANTAU_ENV=production lists its URLs."""
    from pantau_tracking.settings import TrackingSettings

    for key in [k for k in os.environ if k.startswith("PANTAU_")]:
        monkeypatch.delenv(key)
    for key, value in BASE["tracking"]["environment"].items():
        monkeypatch.setenv(key, re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)))
    problems = check(TrackingSettings(env="production"),
                     needs=["transparency_signing_key", "tracking_amqp_url"])
    assert {p.split()[0] for p in problems} == {
        "PANTAU_DATABASE_URL", "PANTAU_TRACKING_AMQP_URL", "PANTAU_TRANSPARENCY_SIGNING_KEY"}


def test_make_run_stays_development() -> None:
    for path in ("Makefile", "infra/run.sh"):
        text = (ROOT / path).read_text()
        assert "docker-compose.prod.yml" not in text and "PANTAU_ENV=production" not in text


def _docker_compose() -> list[str]:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True,
                                 check=False).returncode == 0:
        return [docker, "compose"]
    pytest.skip("docker compose is not installed here (the structural tests above stand in)")


def test_docker_compose_config_requires_the_secrets() -> None:
    compose = [*_docker_compose(), "-f", "docker-compose.yml", "-f", "docker-compose.prod.yml",
               "config", "--quiet"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    missing = subprocess.run(compose, cwd=ROOT, env=clean, capture_output=True, text=True,
                             check=False)
    assert missing.returncode != 0 and "PANTAU_" in missing.stderr
    full = clean | {v: _fake_secret(v) for v in set(REQUIRED.findall(PROD_TEXT))}
    assert subprocess.run(compose, cwd=ROOT, env=full, capture_output=True, text=True,
                          check=False).returncode == 0
