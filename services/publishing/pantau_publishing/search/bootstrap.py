"""Index templates and the first index behind each alias — idempotent and safe to race.

Two processes (the indexer and the portal) may start at the same moment. Both may create an index
and point the alias at it; afterwards each looks at the alias, and if it names more than one index
the oldest (smallest name) wins: the others are removed in one atomic alias update. Every process
computes the same winner, so the outcome is one alias → one index whatever the interleaving.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from pantau_platform.settings import REPO_ROOT
from pantau_publishing.search.client import Aliases, new_index_name

log = logging.getLogger(__name__)
TEMPLATE_DIR = REPO_ROOT / "infra" / "elasticsearch"
TEMPLATES = {"cases": TEMPLATE_DIR / "cases-template.json",
             "changes": TEMPLATE_DIR / "changes-template.json"}


def load_template(path: Path, alias: str) -> dict[str, Any]:
    """The template file with ``index_patterns`` set to ``<alias>-*`` (and comments dropped)."""
    body: dict[str, Any] = json.loads(path.read_text())
    body.pop("_comment", None)
    body["index_patterns"] = [f"{alias}-*"]
    return body


def put_templates(es: Elasticsearch, aliases: Aliases) -> None:
    for kind, alias in (("cases", aliases.cases), ("changes", aliases.changes)):
        body = load_template(TEMPLATES[kind], alias)
        es.indices.put_index_template(name=alias, **body)


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
    """Put both templates and make sure both aliases exist. Returns alias → index."""
    put_templates(es, aliases)
    return {alias: ensure_alias(es, alias) for alias in (aliases.cases, aliases.changes)}


def drop(es: Elasticsearch, aliases: Aliases) -> None:
    """Delete both aliases' indices and templates (tests clean up with this)."""
    for alias in (aliases.cases, aliases.changes):
        for index in alias_indices(es, alias):
            es.indices.delete(index=index, ignore_unavailable=True)
        try:
            es.indices.delete_index_template(name=alias)
        except NotFoundError:
            pass
