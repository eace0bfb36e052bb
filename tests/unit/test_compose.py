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


# -- identities (docs/architecture.md, "Identities") ---------------------------------------------

AMQP_IDENTITY = {"tracking": ("PANTAU_TRACKING_AMQP_URL", "pantau-tracking"),
                 "intake-ingress": ("PANTAU_INTAKE_AMQP_URL", "pantau-intake"),
                 "intake-http": ("PANTAU_INTAKE_AMQP_URL", "pantau-intake"),
                 "intake-outcomes": ("PANTAU_INTAKE_AMQP_URL", "pantau-intake"),
                 "indexer": ("PANTAU_INDEXER_AMQP_URL", "pantau-indexer"),
                 "mailer": ("PANTAU_MAILER_AMQP_URL", "pantau-mailer")}


def _env(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[name].get("environment") or {}).items()}


def test_each_amqp_process_connects_as_its_own_user_of_the_identity_table() -> None:
    from pantau_platform.identities import load_identities

    users = set(load_identities())
    for name, (variable, user) in AMQP_IDENTITY.items():
        env = _env(name)
        assert env[variable].startswith(f"amqp://{user}:"), name
        assert user in users
        assert "PANTAU_AMQP_URL" not in env and "PANTAU_AMQP_MANAGEMENT_URL" not in env, name
    assert "--service-users" in " ".join(SERVICES["topology"]["command"])


def test_the_portal_gets_no_broker_and_no_service_database() -> None:
    env = _env("portal")
    assert not {k for k in env if "AMQP" in k}
    assert "PANTAU_DATABASE_URL" not in env and "PANTAU_INTAKE_DATABASE_URL" not in env
    assert env["PANTAU_TRANSPARENCY_DATABASE_URL"].startswith("postgresql://pantau_portal:")
    assert env["PANTAU_ELASTICSEARCH_URL"].startswith("http://pantau_portal:")


def test_only_tracking_and_intake_get_their_databases() -> None:
    for name in ("indexer", "portal"):
        assert "PANTAU_DATABASE_URL" not in _env(name) and \
            "PANTAU_INTAKE_DATABASE_URL" not in _env(name), name
    assert "PANTAU_INTAKE_DATABASE_URL" not in _env("tracking")
    assert "PANTAU_DATABASE_URL" not in _env("intake-ingress")


def test_elasticsearch_is_secured_with_a_reader_and_a_writer() -> None:
    es = SERVICES["elasticsearch"]["environment"]
    assert es["xpack.security.enabled"] == "true"
    assert _env("indexer")["PANTAU_ELASTICSEARCH_URL"].startswith("http://pantau_indexer:")
    script = (ROOT / "infra" / "elasticsearch" / "security.sh").read_text()
    assert "_security/role/pantau_portal" in script and "_security/user/pantau_indexer" in script
    portal_role = script.split("_security/role/pantau_portal")[1].split("put ")[0]
    assert '"write"' not in portal_role and "create_index" not in portal_role
    for name in ("tracking", "intake-ingress", "intake-http", "indexer", "portal"):
        assert "elasticsearch-users" in SERVICES[name]["depends_on"], name


def test_the_portal_role_and_the_message_size_limit_are_mounted() -> None:
    postgres = " ".join(SERVICES["postgres"]["volumes"])
    assert "compose-init.sh:/docker-entrypoint-initdb.d/" in postgres
    assert "portal-readonly.sql" in (ROOT / "infra/postgres/compose-init.sh").read_text()
    rabbit = " ".join(SERVICES["rabbitmq"]["volumes"])
    assert "infra/rabbitmq/compose.conf:/etc/rabbitmq/conf.d/" in rabbit
    assert "max_message_size = 1048576" in (ROOT / "infra/rabbitmq/compose.conf").read_text()
    assert "RMQ_MAX_MESSAGE_SIZE=1048576" in (ROOT / "infra/lib/rabbitmq.sh").read_text()


def test_local_run_gives_the_portal_no_broker_and_no_service_database() -> None:
    run_sh = (ROOT / "infra" / "run.sh").read_text()
    portal = run_sh.split("    portal)")[1].split(";;")[0]
    for variable in ("PANTAU_AMQP_URL", "PANTAU_DATABASE_URL", "PANTAU_INTAKE_DATABASE_URL"):
        assert f"-u {variable}" in portal
    for name, identity in (("intake-\\*", "intake"), ("tracking", "tracking"),
                           ("indexer", "indexer")):
        assert re.search(rf"{name}\) echo .*PANTAU_{identity.upper()}_AMQP_URL=\$\(amqp_as "
                         rf"{identity}\)", run_sh), name
