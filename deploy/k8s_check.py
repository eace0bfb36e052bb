"""Offline check of Pantau's Helm chart: lint, render every CI value set, validate each object.

Contract
--------
* ``helm_binary()`` is ``$PANTAU_HELM`` or the project's own ``.state/bin/helm``
  (``infra/helm.sh`` installs it); a missing binary raises ``FileNotFoundError`` — a check that
  cannot run must fail, never pass quietly.
* ``value_sets()`` lists ``deploy/helm/pantau/ci/*-values.yaml`` (minimal, all external with
  TLS, autoscaling off).
* ``render(values, kube_version)`` runs ``helm template`` and returns the objects (dicts).
* ``problems(objects, kube_version)`` validates every object: built-in kinds strictly (no unknown
  field) against the Kubernetes JSON schemas shipped inside the ``kubernetes-validate`` package,
  KEDA's ``ScaledObject``/``TriggerAuthentication`` with ``jsonschema`` against the CRD schemas
  vendored in ``deploy/schemas/keda`` (README there names the release). An unknown kind is a
  problem too. Returns messages; empty means valid.
* ``main()`` (``make k8s-check``): ``helm lint --strict`` with each value set, then render and
  validate each for the oldest and the newest Kubernetes the chart supports; exit 1 on any
  problem. Nothing touches the network.
"""

from __future__ import annotations

import json
import os
import subprocess  # noqa: S404 - runs the project's own helm binary with fixed arguments
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "pantau"
KEDA_SCHEMAS = ROOT / "deploy" / "schemas" / "keda"
KUBE_VERSIONS = ("1.27.0", "1.37.0")  # Chart.yaml kubeVersion's floor, and the newest schemas
RELEASE = "pantau"
NAMESPACE = "pantau"


def helm_binary() -> Path:
    path = Path(os.environ.get("PANTAU_HELM") or ROOT / ".state" / "bin" / "helm")
    if not path.is_file():
        raise FileNotFoundError(f"helm not found at {path}: run `bash infra/helm.sh`")
    return path


def value_sets() -> list[Path]:
    return sorted((CHART / "ci").glob("*-values.yaml"))


def _helm(*args: str) -> str:
    result = subprocess.run([str(helm_binary()), *args], capture_output=True, text=True,  # noqa: S603
                            check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"helm {args[0]} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def lint(values: Path) -> str:
    return _helm("lint", "--strict", str(CHART), "-f", str(values))


def render(values: Path | None = None, kube_version: str = KUBE_VERSIONS[-1],
           extra: Iterable[str] = ()) -> list[dict[str, Any]]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE,
            "--kube-version", kube_version, *extra]
    if values is not None:
        args += ["-f", str(values)]
    return [doc for doc in yaml.safe_load_all(_helm(*args)) if doc]


def _keda_schema(kind: str) -> dict[str, Any] | None:
    path = KEDA_SCHEMAS / f"{kind.lower()}-v1alpha1.json"
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def _name(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def problems(objects: Iterable[dict[str, Any]], kube_version: str) -> list[str]:
    found = []
    for obj in objects:
        if str(obj.get("apiVersion", "")).startswith("keda.sh/"):
            schema = _keda_schema(str(obj.get("kind")))
            if schema is None:
                found.append(f"{_name(obj)}: no vendored KEDA schema for this kind")
                continue
            validator = jsonschema.Draft7Validator(schema)
            found += [f"{_name(obj)}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in validator.iter_errors(obj)]
            continue
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(map(str, exc.path))
            found.append(f"{_name(obj)} (Kubernetes {kube_version}): {where}: {exc.message}")
        except (kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.InvalidSchemaError) as exc:
            found.append(f"{_name(obj)} (Kubernetes {kube_version}): {exc}")
    return found


def main() -> int:
    failures = 0
    for values in value_sets():
        lint(values)
        for kube_version in KUBE_VERSIONS:
            objects = render(values, kube_version)
            found = problems(objects, kube_version)
            failures += len(found)
            status = "ok" if not found else f"{len(found)} problem(s)"
            sys.stdout.write(f"k8s-check {values.name} Kubernetes {kube_version}: "
                             f"{len(objects)} objects, {status}\n")
            for problem in found:
                sys.stdout.write(f"  - {problem}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
