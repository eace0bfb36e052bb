"""Index templates and the first index behind each alias — idempotent and safe to race.

Two processes (the indexer and the portal) may start at the same moment. Both may create an index
and point the alias at it; afterwards each looks at the alias, and if it names more than one index
the oldest (smallest name) wins: the others are removed in one atomic alias update. Every process
computes the same winner, so the outcome is one alias → one index whatever the interleaving.

A template only shapes indices created after it; ``add_new_fields`` brings an index that already
exists up to date by adding the fields the template has and the index lacks (adding a field is
always allowed, and doing it twice is harmless). A field the index maps *differently* (e.g.
``timeline`` before the two clocks) cannot change in place: that is logged, and
``python -m pantau_tools.rebuild`` builds a fresh index with the current template.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from pantau_platform.settings import REPO_ROOT
from pantau_publishing.adapters.search.client import Aliases, new_index_name

log = logging.getLogger(__name__)
TEMPLATE_DIR = REPO_ROOT / "infra" / "elasticsearch"
TEMPLATES = {"cases": TEMPLATE_DIR / "cases-template.json",
             "changes": TEMPLATE_DIR / "changes-template.json"}


def load_template(path: Path, alias: str, replicas: int = 0) -> dict[str, Any]:
    """The template file with ``index_patterns`` set to ``<alias>-*``, ``replicas`` replicas per
    shard (``PANTAU_INDEX_REPLICAS``) and comments dropped."""
    body: dict[str, Any] = json.loads(path.read_text())
    body.pop("_comment", None)
    body["index_patterns"] = [f"{alias}-*"]
    body["template"].setdefault("settings", {})["number_of_replicas"] = replicas
    return body


def put_templates(es: Elasticsearch, aliases: Aliases) -> None:
    for kind, alias in (("cases", aliases.cases), ("changes", aliases.changes)):
        body = load_template(TEMPLATES[kind], alias, aliases.replicas)
        es.indices.put_index_template(name=alias, **body)


def add_new_fields(es: Elasticsearch, alias: str, template: dict[str, Any]) -> dict[str, list[str]]:
    """Add the template's top-level fields that each index behind ``alias`` lacks. Returns
    index → the fields added (only indices that got some)."""
    wanted: dict[str, Any] = template["template"]["mappings"]["properties"]
    added: dict[str, list[str]] = {}
    for index in alias_indices(es, alias):
        mapping = es.indices.get_mapping(index=index)[index]["mappings"]
        current: dict[str, Any] = mapping.get("properties", {})
        missing = {name: field for name, field in wanted.items() if name not in current}
        if missing:
            es.indices.put_mapping(index=index, properties=missing)
            added[index] = sorted(missing)
            log.info("added fields %s to index %s", sorted(missing), index)
        differing = sorted(name for name, field in wanted.items()
                           if name in current and not _same(current[name], field))
        if differing:
            log.warning("index %s maps %s differently from the current template; run "
                        "`python -m pantau_tools.rebuild` to apply it", index, differing)
    return added


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Does an index's field mapping have the template's kind of field — the same type (an
    object reported without one), indexed or not, the same sub-fields? (Parameters such as
    ``copy_to`` come back normalised, so they are not compared: this is a hint, not a diff.)"""
    def kind(field: dict[str, Any]) -> tuple[Any, Any]:
        return (field.get("type", "object"), field.get("enabled", True))

    if kind(current) != kind(wanted):
        return False
    inner_w, inner_c = wanted.get("properties", {}), current.get("properties", {})
    return set(inner_w) == set(inner_c) and all(_same(inner_c[name], inner_w[name])
                                                for name in inner_w)


def alias_indices(es: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(es.indices.get_alias(name=alias).keys())
    except NotFoundError:
        return []


def ensure_alias(es: Elasticsearch, alias: str) -> str:
    """Make ``alias`` point at exactly one index; return that index's name."""
    existing = alias_indices(es, alias)
    if not existing:
        name = new_index_name(alias)
        try:
            es.indices.create(index=name, aliases={alias: {}})
            log.info("created index %s behind alias %s", name, alias)
        except ApiError as exc:
            if exc.meta.status != 400:  # 400: already exists (same microsecond) — fine
                raise
        existing = alias_indices(es, alias)
    if len(existing) > 1:
        winner, losers = existing[0], existing[1:]
        actions = [{"remove_index": {"index": loser}} for loser in losers]
        try:
            es.indices.update_aliases(actions=actions)
        except (NotFoundError, ApiError) as exc:  # the other process removed them first
            log.info("alias race on %s settled by another process (%s)", alias, exc)
        existing = [winner]
    return existing[0]


def bootstrap(es: Elasticsearch, aliases: Aliases) -> dict[str, str]:
    """Put both templates, make sure both aliases exist and their indices have every field of
    the current templates. Returns alias → index."""
    put_templates(es, aliases)
    indices = {alias: ensure_alias(es, alias) for alias in (aliases.cases, aliases.changes)}
    for kind, alias in (("cases", aliases.cases), ("changes", aliases.changes)):
        add_new_fields(es, alias, load_template(TEMPLATES[kind], alias))
    return indices


def drop(es: Elasticsearch, aliases: Aliases) -> None:
    """Delete both aliases' indices and templates (tests clean up with this)."""
    for alias in (aliases.cases, aliases.changes):
        for index in alias_indices(es, alias):
            es.indices.delete(index=index, ignore_unavailable=True)
        try:
            es.indices.delete_index_template(name=alias)
        except NotFoundError:
            pass
