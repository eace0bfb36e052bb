"""``infra/monitoring``: promtool accepts the scrape config and the alert rules, the rules' unit
tests pass, every alert links a runbook section that exists, and the dashboard's queries name
only metrics that Pantau (or the rabbitmq plugin) exports. promtool comes from
``infra/promtool.sh``; without it these tests fail — they are never skipped."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from tests.conftest import REPO

MONITORING = REPO / "infra" / "monitoring"


@pytest.fixture(scope="module")
def promtool() -> str:
    done = subprocess.run(["bash", str(REPO / "infra" / "promtool.sh")], capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, f"promtool could not be installed:\n{done.stderr[-2000:]}"
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [["check", "rules", "alerts.yml"],
                                  ["check", "config", "prometheus.yml"],
                                  ["test", "rules", "alerts-test.yml"]])
def test_promtool_accepts(promtool: str, args: list[str]) -> None:
    done = subprocess.run([promtool, *args], cwd=MONITORING, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_rejects_a_broken_rule(promtool: str, tmp_path: object) -> None:
    """The check really checks (a guard against a promtool that accepts anything)."""
    from pathlib import Path
    broken = Path(str(tmp_path)) / "broken.yml"
    broken.write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: rate(up[5m]\n")
    done = subprocess.run([promtool, "check", "rules", str(broken)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0


def _alerts() -> list[dict[str, object]]:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [r for g in rules["groups"] for r in g["rules"] if "alert" in r]


def test_every_alert_links_an_existing_runbook_section() -> None:
    operations = (REPO / "docs" / "operations.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", operations, re.M)}
    alerts = _alerts()
    assert {a["alert"] for a in alerts} >= {
        "PantauQueueBacklogGrowing", "PantauFreshnessSlow", "PantauDeadLetters",
        "PantauOutboxStuck", "PantauServiceDown", "PantauOverdueSpike"}
    for alert in alerts:
        notes = alert["annotations"]
        assert isinstance(notes, dict) and {"summary", "description", "runbook_url"} <= set(notes)
        anchor = str(notes["runbook_url"]).split("#", 1)[1]
        assert anchor in anchors, f"{alert['alert']}: docs/operations.md has no #{anchor}"


def test_the_dashboard_queries_known_metrics() -> None:
    from prometheus_client import REGISTRY

    from pantau_platform import metrics

    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    assert metrics.EVENTS_RECEIVED is not None  # registers Pantau's metrics
    families = {m.name for m in REGISTRY.collect()}
    for expr in exprs:
        for name in re.findall(r"\b(pantau_[a-z_]+)", expr):
            assert re.sub(r"_(total|bucket|count|sum)$", "", name) in families, name


def test_every_process_with_metrics_is_scraped() -> None:
    """A process left out of prometheus.yml exports into the void: its alerts never fire."""
    from pantau_intake.outcomes.settings import OutcomesSettings
    from pantau_intake.settings import IntakeSettings
    from pantau_publishing.settings import PublishingSettings
    from pantau_tracking.settings import TrackingSettings

    settings = [IntakeSettings(), PublishingSettings(), TrackingSettings(), OutcomesSettings()]
    ports = {getattr(s, name) for s in settings for name in type(s).model_fields
             if name.endswith("_metrics_port")}
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    scraped = {int(target.rsplit(":", 1)[1]) for job in config["scrape_configs"]
               for static in job.get("static_configs", []) for target in static["targets"]}
    assert len(ports) == 7 and ports <= scraped, ports - scraped
