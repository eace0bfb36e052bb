"""Loading catalogue files: YAML -> validated ``Jurisdiction`` -> ``Catalogue``.

``load_catalogue(directory)`` reads every ``*.yaml`` in ``<repo>/catalogue`` (or
``$PANTAU_CATALOGUE_DIR``), validates each file's shape (``model``) and Standar Pelayanan rules
(``checks``), then the rules across files, and raises ``CatalogueError`` listing *every* problem
with its file and field path. Codes of departments and services may be left out in a file: they
are filled in from the mapping keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pantau_contracts.catalogue.checks import CatalogueError, cross_problems, jurisdiction_problems
from pantau_contracts.catalogue.model import Catalogue, Jurisdiction, PathError

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_DIRECTORY = REPO_ROOT / "catalogue"
ENV_DIRECTORY = "PANTAU_CATALOGUE_DIR"
# The C loader when libyaml is there (27 files load in a fraction of the pure-Python time);
# both are safe loaders.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def catalogue_directory() -> Path:
    return Path(os.environ.get(ENV_DIRECTORY) or DEFAULT_DIRECTORY)


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load and validate every ``*.yaml`` in ``directory`` (default ``<repo>/catalogue``, or
    ``$PANTAU_CATALOGUE_DIR``). Raises ``CatalogueError`` listing every problem found."""
    directory = Path(directory) if directory is not None else catalogue_directory()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogueError([(str(directory), "", "no *.yaml catalogue files found")])
    problems: list[tuple[str, str, str]] = []
    jurisdictions: dict[str, Jurisdiction] = {}
    for path in files:
        try:
            jurisdiction = load_jurisdiction_file(path)
        except CatalogueError as exc:
            problems.extend(exc.problems)
            continue
        jurisdictions[jurisdiction.code] = jurisdiction
    problems.extend(cross_problems(jurisdictions.values()))
    if problems:
        raise CatalogueError(problems)
    return Catalogue(jurisdictions=jurisdictions)


def load_jurisdiction_file(path: Path) -> Jurisdiction:
    """Load one jurisdiction file; raises ``CatalogueError``."""
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError([(name, "", f"cannot be read as YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise CatalogueError([(name, "", "must be a mapping with code, name, timezone, "
                                         "version, departments")])
    return parse_jurisdiction(raw, name, expected_code=path.stem)


def parse_jurisdiction(raw: Mapping[str, Any], name: str = "<catalogue>",
                       expected_code: str | None = None) -> Jurisdiction:
    """Validate a decoded jurisdiction mapping (codes are filled in from the mapping keys)."""
    data = _with_codes(raw)
    problems: list[tuple[str, str, str]] = []
    if expected_code is not None and data.get("code") != expected_code:
        problems.append((name, "code", f"{data.get('code')!r} must equal the file name "
                                       f"{expected_code!r}"))
    try:
        jurisdiction = Jurisdiction.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            ctx_error = (err.get("ctx") or {}).get("error")
            message = err["msg"]
            if isinstance(ctx_error, PathError):
                loc += list(ctx_error.path)
                message = str(ctx_error)
            elif message.startswith("Value error, "):
                message = message[len("Value error, "):]
            problems.append((name, ".".join(str(p) for p in loc), message))
        raise CatalogueError(problems) from exc
    seen: dict[str, str] = {}
    for dept_code, department in jurisdiction.departments.items():
        for service_code in department.services:
            if service_code in seen:
                problems.append((name, f"departments.{dept_code}.services.{service_code}",
                                 f"service code also used by department {seen[service_code]!r};"
                                 " service codes must be unique in a jurisdiction"))
            seen[service_code] = dept_code
    problems.extend(jurisdiction_problems(jurisdiction, name))
    if problems:
        raise CatalogueError(problems)
    return jurisdiction


def _with_codes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Copy ``raw``, filling ``code``/``department_code`` from mapping keys (short files)."""
    data = dict(raw)
    departments = data.get("departments")
    if isinstance(departments, dict):
        new_departments: dict[str, Any] = {}
        for dept_code, dept in departments.items():
            if isinstance(dept, dict):
                dept = {"code": dept_code, **dept}
                services = dept.get("services")
                if isinstance(services, dict):
                    dept["services"] = {
                        code: ({"code": code, "department_code": dept_code, **svc}
                               if isinstance(svc, dict) else svc)
                        for code, svc in services.items()}
            new_departments[str(dept_code)] = dept
        data["departments"] = new_departments
    return data
