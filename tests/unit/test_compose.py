"""docker-compose.yml stays consistent with the code and with what infra/ provisions locally.

Docker cannot run on the development machines, so this is how the compose file is kept honest:
every module it runs exists, every image version equals the local stack's, and scalable workers
do not pin anything that would stop `--scale`.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SCALABLE = ("tracking", "intake-ingress", "indexer")


def _shell_var(path: str, name: str) -> str:
    match = re.search(rf"^{name}=(\S+)", (ROOT / path).read_text(), re.MULTILINE)
    assert match, f"{name} not found in {path}"
    return match.group(1)


def _modules(command: list[str] | str) -> list[str]:
    text = command if isinstance(command, str) else " ".join(command)
    return re.findall(r"python -m ([\w.]+)", text)


def test_every_module_the_compose_file_runs_exists() -> None:
    modules = [m for svc in SERVICES.values() for m in _modules(svc.get("command", []))]
    assert len(modules) >= 6
    for module in modules:
        assert importlib.util.find_spec(module) is not None, f"compose runs missing module {module}"


def test_local_run_script_starts_the_same_processes_as_compose() -> None:
    run_sh = (ROOT / "infra" / "run.sh").read_text()
    local = set(re.findall(r'"[\w-]+:(pantau_[\w.]+)"', run_sh))
    compose = {m for name, svc in SERVICES.items() if name not in ("topology", "demo")
               for m in _modules(svc.get("command", []))}
    assert local == compose


def test_elasticsearch_version_matches_the_local_distribution() -> None:
    local = _shell_var("infra/lib/elasticsearch.sh", "ES_VERSION")
    assert SERVICES["elasticsearch"]["image"].endswith(f":{local}")
    pyproject = (ROOT / "pyproject.toml").read_text()
    major = local.split(".")[0]
    assert f'"elasticsearch>={major}.' in pyproject, "Python client must be the server's major"


def test_postgres_major_matches_the_local_binaries() -> None:
    pg_bin = _shell_var("infra/lib/postgres.sh", "PG_BIN")
    major = re.search(r"postgresql/(\d+)/", pg_bin + "/")
    assert major and SERVICES["postgres"]["image"] == f"postgres:{major.group(1)}"


def test_rabbitmq_version_matches_debians_package() -> None:
    tag = SERVICES["rabbitmq"]["image"].split(":")[1]
    assert tag.endswith("-management"), "the management plugin is needed for the topology"
    if not shutil.which("dpkg-query"):
        pytest.skip("not a Debian machine")
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip("rabbitmq-server is not installed here (infra/stack.sh installs it)")
    assert tag.removesuffix("-management") == ".".join(result.stdout.split(".")[:2])


def test_scalable_workers_pin_no_ports_or_names() -> None:
    for name in SCALABLE:
        assert "ports" not in SERVICES[name] and "container_name" not in SERVICES[name], name


def test_services_bind_only_loopback_on_the_host() -> None:
    for name, svc in SERVICES.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
