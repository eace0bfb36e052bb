"""Every real process refuses to start in production with development credentials.

Each process is started as ``python -m ...`` with ``PANTAU_ENV=production`` and the development
settings (what ``infra/stack.sh env`` and docker-compose.yml hand out: pantau/pantau and
``*-dev-only`` passwords, the dev master key, no signing key): it must exit non-zero with one
message listing every problem and the setting to fix. Intake's processes also refuse while the
credential store holds an active development department key; the credentials CLI still runs
(so an operator can revoke them) but ``bootstrap-dev`` refuses. With production settings the CLI
and the portal start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pantau_intake.adapters.dev_credentials import load_dev_departments
from tests.conftest import REPO, wait_for

REFUSAL = "Pantau refuses to start in production (PANTAU_ENV=production)"
GOOD_AMQP = "amqp://ops:Zq8-prod-secret-1@127.0.0.1:5672/pantau_test"
DEV = {
    "PANTAU_ENV": "production",
    "PANTAU_AMQP_URL": "amqp://pantau:pantau@127.0.0.1:5672/pantau_test",
    "PANTAU_AMQP_MANAGEMENT_URL": "http://pantau:pantau@127.0.0.1:15672",
    "PANTAU_INTAKE_AMQP_URL": "amqp://pantau-intake:pantau-intake-dev-only@127.0.0.1/pantau_test",
    "PANTAU_TRACKING_AMQP_URL":
        "amqp://pantau-tracking:pantau-tracking-dev-only@127.0.0.1/pantau_test",
    "PANTAU_INDEXER_AMQP_URL":
        "amqp://pantau-indexer:pantau-indexer-dev-only@127.0.0.1/pantau_test",
    "PANTAU_MAILER_AMQP_URL": "amqp://pantau-mailer:pantau-mailer-dev-only@127.0.0.1/pantau_test",
    "PANTAU_DATABASE_URL": "postgresql://pantau:pantau@127.0.0.1:5432/pantau_test",
    "PANTAU_ELASTICSEARCH_URL": "http://pantau_portal:pantau_portal-dev-only@127.0.0.1:9200",
}
GOOD = {
    "PANTAU_ENV": "production",
    "PANTAU_AMQP_URL": GOOD_AMQP,
    "PANTAU_AMQP_MANAGEMENT_URL": "http://ops:Zq8-prod-secret-1@127.0.0.1:15672",
    "PANTAU_INTAKE_AMQP_URL": "amqp://intake:Zq8-prod-secret-2@127.0.0.1:5672/pantau_test",
    "PANTAU_TRACKING_AMQP_URL": "amqp://tracking:Zq8-prod-secret-3@127.0.0.1:5672/pantau_test",
    "PANTAU_INDEXER_AMQP_URL": "amqp://indexer:Zq8-prod-secret-4@127.0.0.1:5672/pantau_test",
    "PANTAU_INTAKE_MASTER_KEY": "a-production-master-key-0123456789abcdef",
    "PANTAU_TRANSPARENCY_SIGNING_KEY": "c2lnbmluZy1rZXktMzItYnl0ZXMtbG9uZy0tLS0tLS0=",
}


def _environment(tmp_path: Path, **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    return {**clean, "PANTAU_STATE_DIR": str(tmp_path / "state"), **env}


def run(tmp_path: Path, module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO,
                          env=_environment(tmp_path, **env), capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("module, args, settings", [
    ("pantau_intake.http", [], ["PANTAU_INTAKE_MASTER_KEY", "PANTAU_INTAKE_AMQP_URL"]),
    ("pantau_intake.ingress", [], ["PANTAU_INTAKE_AMQP_URL"]),
    ("pantau_tracking", [], ["PANTAU_TRANSPARENCY_SIGNING_KEY", "PANTAU_TRACKING_AMQP_URL",
                             "PANTAU_DATABASE_URL"]),
    ("pantau_publishing.indexer", [], ["PANTAU_INDEXER_AMQP_URL", "PANTAU_ELASTICSEARCH_URL"]),
    ("pantau_publishing.portal", [], ["PANTAU_ELASTICSEARCH_URL", "PANTAU_DATABASE_URL"]),
    ("pantau_publishing.mailer", [], ["PANTAU_MAILER_AMQP_URL", "PANTAU_CITIZEN_DATABASE_URL",
                                      "PANTAU_SMTP_HOST", "PANTAU_MAIL_FROM"]),
    ("pantau_intake.credentials", ["bootstrap-dev"], ["PANTAU_INTAKE_MASTER_KEY"]),
    ("pantau_intake.credentials", ["list"], ["PANTAU_INTAKE_MASTER_KEY"]),
])
def test_each_process_refuses_the_development_settings(
        tmp_path: Path, module: str, args: list[str], settings: list[str]) -> None:
    result = run(tmp_path, module, *args, **DEV)
    assert result.returncode != 0
    assert REFUSAL in result.stderr, result.stderr
    for name in ("PANTAU_AMQP_URL", "PANTAU_AMQP_MANAGEMENT_URL", *settings):
        assert f"  - {name} " in result.stderr, (name, result.stderr)
    assert "pantau-tracking-dev-only" not in result.stderr  # never a secret's value
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("module, settings", [
    ("pantau_tracking", ["PANTAU_TRANSPARENCY_SIGNING_KEY", "PANTAU_TRACKING_AMQP_URL"]),
    ("pantau_publishing.indexer", ["PANTAU_INDEXER_AMQP_URL"]),
    ("pantau_publishing.mailer", ["PANTAU_MAILER_AMQP_URL", "PANTAU_CITIZEN_DATABASE_URL"]),
    ("pantau_intake.http", ["PANTAU_INTAKE_MASTER_KEY", "PANTAU_INTAKE_AMQP_URL"]),
])
def test_a_missing_secret_is_named(tmp_path: Path, module: str, settings: list[str]) -> None:
    result = run(tmp_path, module, PANTAU_ENV="production")
    assert result.returncode != 0 and REFUSAL in result.stderr, result.stderr
    for name in settings:
        assert f"  - {name} is not set" in result.stderr or \
            f"  - {name} is the public development-only value" in result.stderr, name


def test_a_development_department_key_stops_intake_until_revoked(tmp_path: Path) -> None:
    store = {"PANTAU_INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'intake.sqlite3'}"}
    dev = run(tmp_path, "pantau_intake.credentials", "bootstrap-dev", PANTAU_ENV="development",
              PANTAU_INTAKE_MASTER_KEY=GOOD["PANTAU_INTAKE_MASTER_KEY"], **store)
    assert dev.returncode == 0, dev.stderr
    key_ids = [d.key_id for d in load_dev_departments()]

    for module in ("pantau_intake.http", "pantau_intake.ingress"):
        refused = run(tmp_path, module, **GOOD, **store)
        assert refused.returncode != 0 and REFUSAL in refused.stderr, refused.stderr
        assert f"{len(key_ids)} problem(s)" in refused.stderr  # only the keys: settings are good
        for key_id in key_ids:
            assert f"holds the active development key {key_id} " in refused.stderr

    again = run(tmp_path, "pantau_intake.credentials", "bootstrap-dev", **GOOD, **store)
    assert again.returncode == 2 and "refused with PANTAU_ENV=production" in again.stderr
    apply = run(tmp_path, "pantau_intake.credentials", "apply-amqp", "--dev", **GOOD, **store)
    assert apply.returncode == 2 and "refused with PANTAU_ENV=production" in apply.stderr

    for key_id in key_ids:  # the CLI runs in production: the operator can clean up
        revoked = run(tmp_path, "pantau_intake.credentials", "revoke", key_id, **GOOD, **store)
        assert revoked.returncode == 0, revoked.stderr
    listed = run(tmp_path, "pantau_intake.credentials", "list", **GOOD, **store)
    assert listed.returncode == 0 and listed.stdout.count("revoked") == len(key_ids)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_portal_starts_with_production_settings(tmp_path: Path,
                                                    elasticsearch_url: str) -> None:
    port = _free_port()
    env = _environment(tmp_path, **GOOD, PANTAU_ELASTICSEARCH_URL=elasticsearch_url,
                       PANTAU_PORTAL_PORT=str(port), PANTAU_PORTAL_METRICS_PORT="0",
                       PANTAU_PUBLIC_BASE_URL="https://pantau.example.go.id",
                       PANTAU_SURVEY_SECRET="survey-" + "s" * 40,
                       PANTAU_TRANSPARENCY_DATABASE_URL=f"sqlite:///{tmp_path / 't.sqlite3'}")
    log = tmp_path / "portal.log"
    with log.open("wb") as out:
        portal = subprocess.Popen([sys.executable, "-m", "pantau_publishing.portal"], cwd=REPO,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: portal.poll() is None and httpx.get(
                f"http://127.0.0.1:{port}/healthz").status_code == 200,
                timeout=30, message="the portal in production")
        finally:
            portal.terminate()
            portal.wait(timeout=15)
    assert REFUSAL not in log.read_text()
