"""The Helm chart (deploy/helm/pantau), rendered with each CI value set by the real helm binary.

Checks what `make k8s-check`'s schema validation cannot: every Deployment runs non-root on a
read-only root filesystem with probes on the process's own health endpoints; no secret value is
rendered (passwords only through secretKeyRef, URLs carry "$(VAR)" of an earlier secret env);
every setting the chart sets exists; KEDA scales each consumer on the queues it really reads
(infra/rabbitmq/topology.json, the catalogue's department queues, the service's own identity);
NetworkPolicies deny by default and open only what each process needs; jobs run in order; dead
letters are scrubbed daily as the operator.
helm missing is a failure, not a skip (infra/helm.sh installs it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import subprocess  # noqa: S404 - runs the job's own script
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pantau_contracts.routing import department_ingress_queue
from pantau_platform.identities import load_identities
from pantau_platform.topology import TOPOLOGY_FILE, catalogue_departments

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("k8s_check", ROOT / "deploy" / "k8s_check.py")
assert _spec and _spec.loader
k8s_check = importlib.util.module_from_spec(_spec)
sys.modules["k8s_check"] = k8s_check
_spec.loader.exec_module(k8s_check)

VALUE_SETS = {path.name.removesuffix("-values.yaml"): path for path in k8s_check.value_sets()}
PROCESSES = {"intake-http", "intake-ingress", "intake-outcomes", "tracking", "indexer", "portal",
             "mailer"}
HTTP_PORTS = {"intake-http": 8001, "portal": 8000}
HEALTH_PORTS = {"tracking": 8101, "indexer": 8102, "intake-ingress": 8103,
                "intake-outcomes": 8105, "mailer": 8107}
METRICS_PORTS = {"portal": 9100, "tracking": 9101, "indexer": 9102, "intake-ingress": 9103,
                 "intake-http": 9104, "intake-outcomes": 9105, "mailer": 9107}
DEPENDENT = re.compile(r"\$\(([A-Z0-9_]+)\)")
# secret-looking words in an env name: the value must come from a Secret
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY$|TOKEN")


def _settings_fields(process: str) -> set[str]:
    if process == "intake-outcomes":
        from pantau_intake.outcomes.settings import OutcomesSettings as Settings
    elif process.startswith("intake"):
        from pantau_intake.settings import IntakeSettings as Settings  # type: ignore[assignment]
    elif process == "tracking":
        from pantau_tracking.settings import TrackingSettings as Settings  # type: ignore[assignment]
    else:
        from pantau_publishing.settings import PublishingSettings as Settings  # type: ignore[assignment]
    return {f"PANTAU_{name.upper()}" for name in Settings.model_fields}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: k8s_check.render(path) for name, path in VALUE_SETS.items()}


def _kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _component(obj: dict[str, Any]) -> str:
    labels = obj["metadata"].get("labels", {})
    return str(labels.get("app.kubernetes.io/component", ""))


def _pod_specs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    pods = [(f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
            for o in objects if o["kind"] in ("Deployment", "Job")]
    return pods + [(f"CronJob/{o['metadata']['name']}",
                    o["spec"]["jobTemplate"]["spec"]["template"]["spec"])
                   for o in _kind(objects, "CronJob")]


def test_the_three_value_sets_exist() -> None:
    assert set(VALUE_SETS) == {"minimal", "external-tls", "autoscaling-off"}


def test_helm_missing_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("PANTAU_HELM", str(tmp_path / "no-helm"))
    with pytest.raises(FileNotFoundError, match="infra/helm.sh"):
        k8s_check.render(VALUE_SETS["minimal"])


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_object_is_valid_for_kubernetes_and_keda(rendered: dict[str, Any],
                                                       name: str) -> None:
    assert k8s_check.problems(rendered[name], k8s_check.KUBE_VERSIONS[-1]) == []


def test_an_invalid_object_is_reported(rendered: dict[str, Any]) -> None:
    deployment = json.loads(json.dumps(_kind(rendered["minimal"], "Deployment")[0]))
    deployment["spec"]["replicas"] = "two"
    scaled = json.loads(json.dumps(_kind(rendered["minimal"], "ScaledObject")[0]))
    scaled["spec"]["triggers"][0]["metadata"] = ["not", "a", "map"]
    found = k8s_check.problems([deployment, scaled], k8s_check.KUBE_VERSIONS[-1])
    assert len(found) == 2 and "Deployment/" in found[0] and "ScaledObject/" in found[1]


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_one_deployment_per_process_hardened_with_probes(rendered: dict[str, Any],
                                                         name: str) -> None:
    deployments = _kind(rendered[name], "Deployment")
    assert {_component(d) for d in deployments} == PROCESSES
    for deployment in deployments:
        process = _component(deployment)
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert security["seccompProfile"]["type"] == "RuntimeDefault"
        port = HTTP_PORTS.get(process) or HEALTH_PORTS[process]
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                            ("readinessProbe", "/readyz")):
            assert container[probe]["httpGet"] == {"path": path, "port": port}, (process, probe)
        assert container["resources"]["requests"] and container["resources"]["limits"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PANTAU_STATE_DIR"] in mounts and "/tmp" in mounts
        empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        assert {mounts[env["PANTAU_STATE_DIR"]], mounts["/tmp"]} <= empty_dirs
        module = container["command"][-1]
        assert container["command"][:2] == ["python", "-m"]
        assert importlib.util.find_spec(module) is not None, module


def test_probes_listen_where_the_kubelet_reaches_them(rendered: dict[str, Any]) -> None:
    for deployment in _kind(rendered["minimal"], "Deployment"):
        process = _component(deployment)
        env = {e["name"]: e.get("value") for e in
               deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        if process in HEALTH_PORTS:
            assert env["PANTAU_HEALTH_HOST"] == "0.0.0.0"
            port_setting = {"tracking": "PANTAU_TRACKING_HEALTH_PORT",
                            "indexer": "PANTAU_INDEXER_HEALTH_PORT",
                            "intake-ingress": "PANTAU_INGRESS_HEALTH_PORT",
                            "intake-outcomes": "PANTAU_OUTCOMES_HEALTH_PORT",
                            "mailer": "PANTAU_MAILER_HEALTH_PORT"}[process]
            assert env[port_setting] == str(HEALTH_PORTS[process])
        else:
            host = "PANTAU_INTAKE_HOST" if process == "intake-http" else "PANTAU_PORTAL_HOST"
            assert env[host] == "0.0.0.0"


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_secrets_are_referenced_never_inlined(rendered: dict[str, Any], name: str) -> None:
    objects = rendered[name]
    assert not _kind(objects, "Secret") and not _kind(objects, "ConfigMap")
    text = json.dumps(objects)
    for dev_value in ("dev-only", "NOT-FOR-PRODUCTION", "pantau:pantau@"):
        assert dev_value not in text
    for where, pod in _pod_specs(objects):
        for container in pod["containers"]:
            declared: dict[str, dict[str, Any]] = {}
            for entry in container["env"]:
                source = entry.get("valueFrom", {})
                if SECRET_NAME.search(entry["name"]):
                    assert "secretKeyRef" in source, (where, entry["name"])
                for variable in DEPENDENT.findall(entry.get("value", "")):
                    # expanded only when declared before, and only ever a secret
                    assert "secretKeyRef" in declared[variable].get("valueFrom", {}), where
                if "_URL" in entry["name"] and "@" in entry.get("value", ""):
                    for url in re.split(r"[,]", entry["value"]):
                        password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
                        assert DEPENDENT.fullmatch(password), (where, entry["name"])
                declared[entry["name"]] = entry


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_setting_the_chart_sets_exists(rendered: dict[str, Any], name: str) -> None:
    values = yaml.safe_load(VALUE_SETS[name].read_text()) or {}
    operator_given = {e["name"] for e in values.get("extraEnv", [])}  # the operator's own
    for deployment in _kind(rendered[name], "Deployment"):
        process = _component(deployment)
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        only_expanded = {v for e in env for v in DEPENDENT.findall(e.get("value", ""))}
        only_expanded |= operator_given
        fields = _settings_fields(process)
        for entry in env:
            if entry["name"].startswith("PANTAU_") and entry["name"] not in only_expanded:
                assert entry["name"] in fields, (process, entry["name"])
        assert {"name": "PANTAU_ENV", "value": "production"} in env


def test_each_process_gets_only_its_own_identity(rendered: dict[str, Any]) -> None:
    own_user = {"intake-http": "pantau-intake", "intake-ingress": "pantau-intake",
                "intake-outcomes": "pantau-intake",
                "tracking": "pantau-tracking", "indexer": "pantau-indexer",
                "mailer": "pantau-mailer"}
    for deployment in _kind(rendered["external-tls"], "Deployment"):
        process = _component(deployment)
        env = {e["name"]: e.get("value", "") for e in
               deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        amqp = [k for k in env if k.endswith("AMQP_URL")]
        if process == "portal":
            assert amqp == [] and "PANTAU_DATABASE_URL" not in env
            assert env["PANTAU_TRANSPARENCY_DATABASE_URL"].startswith("postgresql://pantau_portal:")
            assert "://pantau_portal:" in env["PANTAU_ELASTICSEARCH_URL"]
            continue
        (url_setting,) = amqp
        urls = env[url_setting].split(",")
        assert len(urls) == 3  # every node of the cluster, for failover
        assert all(u.startswith(f"amqps://{own_user[process]}:") for u in urls)
        assert "PANTAU_AMQP_MANAGEMENT_URL" not in env


def test_postgres_host_lists_parse_for_sqlalchemy(rendered: dict[str, Any]) -> None:
    import sqlalchemy as sa

    from pantau_tracking.adapters.database import normalise_url

    tracking = next(d for d in _kind(rendered["external-tls"], "Deployment")
                    if _component(d) == "tracking")
    env = {e["name"]: e.get("value", "") for e in
           tracking["spec"]["template"]["spec"]["containers"][0]["env"]}
    url = DEPENDENT.sub("s3cret", env["PANTAU_DATABASE_URL"])
    engine = sa.create_engine(normalise_url(url))
    _, params = engine.dialect.create_connect_args(engine.url)
    assert params["host"] == "pg-primary.db.example.net,pg-replica.db.example.net"
    assert params["sslmode"] == "verify-full" and params["password"] == "s3cret"


def _topology_queues() -> set[str]:
    queues = {q["name"] for q in json.loads(TOPOLOGY_FILE.read_text())["queues"]}
    return queues | {department_ingress_queue(j, d) for j, d in catalogue_departments()}


def test_keda_scales_each_consumer_on_the_queues_it_reads(rendered: dict[str, Any]) -> None:
    objects = rendered["minimal"]
    scaled = {_component(o): o for o in _kind(objects, "ScaledObject")}
    assert set(scaled) == {"intake-ingress", "intake-outcomes", "tracking", "indexer", "mailer"}
    identities = load_identities()
    user = {"intake-ingress": "pantau-intake", "intake-outcomes": "pantau-intake",
            "tracking": "pantau-tracking",
            "indexer": "pantau-indexer", "mailer": "pantau-mailer"}
    departments = {department_ingress_queue(j, d) for j, d in catalogue_departments()}
    expected = {"intake-ingress": {"intake.ingress"} | departments,
                "tracking": {"tracking.accepted"}, "indexer": {"publishing.cases"},
                "intake-outcomes": {"intake.outcomes"}, "mailer": {"publishing.follow"}}
    topology = _topology_queues()
    (auth,) = _kind(objects, "TriggerAuthentication")
    for process, obj in scaled.items():
        assert obj["spec"]["scaleTargetRef"]["name"].endswith(f"-{process}")
        covered: set[str] = set()
        for trigger in obj["spec"]["triggers"]:
            meta = trigger["metadata"]
            assert trigger["type"] == "rabbitmq" and meta["protocol"] == "http"
            assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
            assert "@" not in meta["host"]  # the login comes from the Secret
            if meta.get("useRegex") == "true":
                assert meta["operation"] == "sum"
                covered |= {q for q in topology if re.search(meta["queueName"], q)}
            else:
                assert meta["queueName"] in topology
                covered.add(meta["queueName"])
            # the process may read what it scales on (its identity's read permission)
            assert all(re.fullmatch(identities[user[process]].read, q) for q in covered)
        assert covered == expected[process], process
    assert {r["parameter"] for r in auth["spec"]["secretTargetRef"]} == {"username", "password"}


def test_http_apps_scale_on_cpu_and_nothing_scales_when_off(rendered: dict[str, Any]) -> None:
    hpas = _kind(rendered["minimal"], "HorizontalPodAutoscaler")
    assert {_component(h) for h in hpas} == {"intake-http", "portal"}
    assert all(h["spec"]["metrics"][0]["resource"]["name"] == "cpu" for h in hpas)
    scaled = {d["metadata"]["name"] for d in _kind(rendered["minimal"], "Deployment")
              if "replicas" not in d["spec"]}
    assert len(scaled) == 7  # the scalers own the replica counts
    off = rendered["autoscaling-off"]
    assert not _kind(off, "HorizontalPodAutoscaler") and not _kind(off, "ScaledObject")
    assert not _kind(off, "TriggerAuthentication")
    assert all(d["spec"]["replicas"] >= 2 for d in _kind(off, "Deployment"))


def test_a_disruption_budget_per_process(rendered: dict[str, Any]) -> None:
    budgets = _kind(rendered["minimal"], "PodDisruptionBudget")
    assert {_component(b) for b in budgets} == PROCESSES
    assert all(b["spec"]["maxUnavailable"] == 1 for b in budgets)


def _ports(rules: list[dict[str, Any]]) -> set[int]:
    return {p["port"] for rule in rules for p in rule.get("ports", [])}


@pytest.mark.parametrize("name", ["minimal", "external-tls"])
def test_network_policies_deny_by_default_and_open_only_what_is_needed(
        rendered: dict[str, Any], name: str) -> None:
    policies = {p["metadata"]["name"].removeprefix("pantau-"): p["spec"]
                for p in _kind(rendered[name], "NetworkPolicy")}
    deny = policies["default-deny"]
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny and "egress" not in deny
    assert deny["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "pantau"
    tls = name == "external-tls"
    amqp, pg, es = (5671 if tls else 5672), 5432, 9200
    egress = {"portal": {es, pg}, "indexer": {amqp, es}, "tracking": {amqp, pg},
              "intake-ingress": {amqp, pg}, "intake-http": {amqp, pg},
              "intake-outcomes": {amqp, pg, 443}, "mailer": {amqp, pg, 587}}
    for process, ports in egress.items():
        assert _ports(policies[process]["egress"]) == ports, process
    metrics = METRICS_PORTS if tls else dict.fromkeys(METRICS_PORTS, None)
    ingress = {"portal": 8000, "intake-http": 8001}
    for process, port in metrics.items():
        expected = {p for p in (ingress.get(process), port) if p}
        assert _ports(policies[process].get("ingress", [])) == expected, process
    assert "from" not in policies["portal"]["ingress"][0]  # citizens, from anywhere
    assert _ports(policies["dns"]["egress"]) == {53}
    (hooks,) = [r for r in policies["intake-outcomes"]["egress"] if _ports([r]) == {443}]
    assert "10.0.0.0/8" in hooks["to"][0]["ipBlock"]["except"]  # webhooks: not the cluster
    if tls:
        assert policies["portal"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.22.0.0/24"}}]


def test_jobs_run_as_ordered_hooks(rendered: dict[str, Any]) -> None:
    jobs = {j["metadata"]["name"].removeprefix("pantau-"): j
            for j in _kind(rendered["external-tls"], "Job")}
    assert list(sorted(jobs, key=lambda n: int(
        jobs[n]["metadata"]["annotations"]["helm.sh/hook-weight"]))) == [
        "topology", "migrations", "credentials"]
    for job in jobs.values():
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    topology = jobs["topology"]["spec"]["template"]["spec"]["containers"][0]
    assert topology["command"] == ["python", "-m", "pantau_platform.topology", "--service-users"]
    env = {e["name"] for e in topology["env"]}
    assert {"PANTAU_AMQP_URL", "PANTAU_AMQP_MANAGEMENT_URL", "PANTAU_AMQP_PASSWORD_INTAKE",
            "PANTAU_AMQP_PASSWORD_TRACKING", "PANTAU_AMQP_PASSWORD_INDEXER"} <= env
    script = jobs["credentials"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert script.count("pantau_intake.credentials apply-amqp") == 2
    migrations = jobs["migrations"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "migrate(" in migrations and "pantau_intake.credentials list" in migrations
    # no departments listed: no credentials job
    assert "pantau-credentials" not in {j["metadata"]["name"]
                                        for j in _kind(rendered["minimal"], "Job")}


# what each process's __main__ passes to pantau_platform.production.enforce
PRODUCTION_NEEDS = {"intake-http": ["intake_master_key", "intake_amqp_url"],
                    "intake-ingress": ["intake_amqp_url"],
                    "intake-outcomes": ["intake_amqp_url"],
                    "tracking": ["transparency_signing_key", "tracking_amqp_url"],
                    "indexer": ["indexer_amqp_url"], "portal": [],
                    "mailer": ["mailer_amqp_url", "citizen_database_url"]}


def _pod_environment(container: dict[str, Any]) -> dict[str, str]:
    """The environment the kubelet would give: each Secret a strong value, $(VAR) expanded."""
    env: dict[str, str] = {}
    for entry in container["env"]:
        if "valueFrom" in entry:
            env[entry["name"]] = secrets.token_hex(16)
        else:
            env[entry["name"]] = DEPENDENT.sub(lambda m: env[m.group(1)], entry["value"])
    return env


@pytest.mark.parametrize("name", ["minimal", "external-tls"])
def test_every_process_passes_the_production_check(rendered: dict[str, Any], name: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pantau_platform.production import check

    for deployment in _kind(rendered[name], "Deployment"):
        process = _component(deployment)
        env = _pod_environment(deployment["spec"]["template"]["spec"]["containers"][0])
        for variable in [v for v in os.environ if v.startswith("PANTAU_")]:
            monkeypatch.delenv(variable)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        if process == "intake-outcomes":
            from pantau_intake.outcomes.settings import OutcomesSettings as Settings
        elif process.startswith("intake"):
            from pantau_intake.settings import IntakeSettings as Settings  # type: ignore[assignment]
        elif process == "tracking":
            from pantau_tracking.settings import TrackingSettings as Settings  # type: ignore[assignment]
        else:
            from pantau_publishing.settings import PublishingSettings as Settings  # type: ignore[assignment]
        settings = Settings()
        assert settings.production
        assert check(settings, needs=PRODUCTION_NEEDS[process]) == [], process
        if process == "portal":
            assert settings.effective_transparency_url  # type: ignore[attr-defined]
        if process == "mailer":  # a real relay, sender and base URL: the mailer's own probe
            assert settings.mailer_production_problems() == []  # type: ignore[attr-defined]


def test_the_migrations_job_runs(rendered: dict[str, Any], tmp_path: Path) -> None:
    (job,) = [j for j in _kind(rendered["minimal"], "Job")
              if j["metadata"]["name"] == "pantau-migrations"]
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env |= {"PANTAU_STATE_DIR": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:"
            f"{env.get('PATH', '')}"}
    # the same commands on development SQLite files: the modules and functions exist and run
    result = subprocess.run(["sh", "-ec", script], env=env, capture_output=True, text=True,  # noqa: S603, S607
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "tracking: schema at head" in result.stdout
    assert {p.name for p in tmp_path.iterdir()} >= {"tracking.sqlite3", "intake.sqlite3"}


def test_metrics_are_scraped_by_annotation_when_on(rendered: dict[str, Any]) -> None:
    for deployment in _kind(rendered["external-tls"], "Deployment"):
        template = deployment["spec"]["template"]
        port = METRICS_PORTS[_component(deployment)]
        assert template["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true", "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics"}
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in \
            template["spec"]["containers"][0]["ports"]
    for deployment in _kind(rendered["minimal"], "Deployment"):
        assert "annotations" not in deployment["spec"]["template"]["metadata"]


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_dead_letters_are_scrubbed_daily_as_the_operator(rendered: dict[str, Any],
                                                         name: str) -> None:
    """Personal data in dead letters is removed after N days only if someone runs the scrub:
    the chart schedules it, as the one identity the tool scrubs as, with nothing more."""
    from pantau_intake.settings import IntakeSettings

    (cron,) = _kind(rendered[name], "CronJob")
    spec = cron["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == (
        "30 2 * * *", "Asia/Jakarta", "Forbid")
    pod = spec["jobTemplate"]["spec"]["template"]
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "jobs"  # its policy
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-m", "pantau_tools.deadletters", "scrub"]
    env = {e["name"]: e for e in container["env"]}
    passwords = {n for n in env if "PASSWORD" in n}
    assert passwords == {"PANTAU_RABBITMQ_OPERATOR_PASSWORD"}  # no service user's
    user = env["PANTAU_AMQP_URL"]["value"].split("://", 1)[1].split(":", 1)[0]
    assert env["PANTAU_INTAKE_TRUSTED_AMQP_USERS"]["value"] == user  # the tool scrubs as it
    assert env["PANTAU_INTAKE_DEADLETTERS_SCRUB_DAYS"]["value"] == "30"
    assert "PANTAU_INTAKE_DEADLETTERS_SCRUB_DAYS".removeprefix("PANTAU_").lower() in \
        IntakeSettings.model_fields


def test_the_scrub_trusts_whichever_operator_user_the_values_name() -> None:
    objects = k8s_check.render(VALUE_SETS["minimal"], extra=["--set",
                                                             "rabbitmq.operatorUser=admin"])
    (cron,) = _kind(objects, "CronJob")
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    assert env["PANTAU_AMQP_URL"].split("://", 1)[1].startswith("admin:")
    assert env["PANTAU_INTAKE_TRUSTED_AMQP_USERS"] == "admin"


def test_the_scrub_schedule_can_be_turned_off() -> None:
    objects = k8s_check.render(VALUE_SETS["minimal"], extra=["--set",
                                                             "deadLetterScrub.enabled=false"])
    assert not _kind(objects, "CronJob")
