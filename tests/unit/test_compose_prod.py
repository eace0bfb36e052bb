"""docker-compose.prod.yml: production on Docker loads no development credential.

Like tests/unit/test_compose.py, this keeps the file honest without Docker: every Pantau process
runs with PANTAU_ENV=production, every development URL of the base file is overridden by a
required secret (``${VAR:?message}``), the topology loads no development departments, and the
merged environment, with real-looking secrets substituted, passes ``pantau_platform.production``
for each process. Where ``docker compose`` exists, ``config`` must fail without the secrets and
succeed with them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pantau_platform.production import DEV_MARKER, check, dev_passwords

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
PROD_TEXT = (ROOT / "docker-compose.prod.yml").read_text()
PROD = yaml.safe_load(PROD_TEXT)["services"]
REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]+\}$")
PROCESSES = {name for name, svc in BASE.items()
             if re.search(r"python -m pantau_", " ".join(svc.get("command", [])))}


def _merged_env(name: str) -> dict[str, str]:
    env: dict[str, Any] = dict(BASE[name].get("environment", {}))
    env.update(PROD.get(name, {}).get("environment", {}))
    return {key: str(value) for key, value in env.items()}


def _fake_secret(variable: str) -> str:
    if variable.endswith("_URL"):
        return f"postgresql://svc-{variable.lower()}:Zq8-prod-{len(variable)}-secret@db:5432/p"
    return f"prod-secret-{variable.lower()}-0123456789abcdef"


def _substituted(env: dict[str, str]) -> dict[str, str]:
    result = {}
    for key, value in env.items():
        match = REQUIRED.match(value)
        result[key] = _fake_secret(match.group(1)) if match else value
    return result


def test_every_pantau_process_runs_in_production() -> None:
    assert {"tracking", "intake-http", "intake-ingress", "indexer", "portal",
            "topology"} <= PROCESSES
    for name in PROCESSES:
        assert _merged_env(name).get("PANTAU_ENV") == "production", name


def test_the_override_holds_no_development_credential() -> None:
    for password in dev_passwords():
        assert f":{password}@" not in PROD_TEXT, password
    assert DEV_MARKER not in PROD_TEXT
    for service in ("rabbitmq", "postgres"):
        for key, value in PROD[service]["environment"].items():
            assert REQUIRED.match(str(value)), f"{service}.{key} must come from the environment"


def test_every_secret_comes_from_the_environment_and_is_required() -> None:
    for name in PROCESSES:
        env = _merged_env(name)
        for key, value in env.items():
            secret = key.endswith(("_URL", "_KEY", "_PASSWORD")) and key not in (
                "PANTAU_ELASTICSEARCH_URL", "PANTAU_INTAKE_URL")
            if secret:
                assert REQUIRED.match(value), f"{name}: {key} must be ${{VAR:?message}}"


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
])
def test_the_merged_environment_passes_the_production_check(
        name: str, module: str, settings_class: str, needs: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    for key in [k for k in os.environ if k.startswith("PANTAU_")]:
        monkeypatch.delenv(key)
    for key, value in _substituted(_merged_env(name)).items():
        monkeypatch.setenv(key, value)
    settings = getattr(importlib.import_module(module), settings_class)()
    assert settings.production
    assert check(settings, needs=needs) == []


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
    variables = set(re.findall(r"\$\{(\w+):\?", PROD_TEXT))
    full = clean | {v: _fake_secret(v) for v in variables}
    assert subprocess.run(compose, cwd=ROOT, env=full, capture_output=True, text=True,
                          check=False).returncode == 0
