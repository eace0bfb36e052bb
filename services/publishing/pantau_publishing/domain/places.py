"""Places: every public scope names its jurisdiction and then its codes.

Department and service codes (``dpmptsp``, ``pbg``…) repeat across jurisdictions, so a bare code
never selects anything on its own: a ``Place`` is a path — jurisdiction, then department, then
service — and its filter always carries the jurisdiction. A bare code from an old URL or an API
client is *resolved* first (``owners_body``/``parse_owners``: which jurisdictions hold it); the
caller redirects when exactly one does and asks the reader to choose otherwise.

Qualified values (``kota-bandung/dpmptsp``) are how a place travels in a query string (facets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS = ("jurisdiction", "department", "service")
FIELDS = {"jurisdiction": "jurisdiction_code", "department": "department_code",
          "service": "service_code"}


@dataclass(frozen=True)
class Place:
    """All jurisdictions (empty), a jurisdiction, a department in it, or a service in that."""

    jurisdiction: str | None = None
    department: str | None = None
    service: str | None = None

    @property
    def level(self) -> str:
        """The deepest level named: ``""`` (everything), jurisdiction, department or service."""
        for name in reversed(LEVELS):
            if getattr(self, name):
                return name
        return ""

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.jurisdiction, self.department, self.service) if p)

    @property
    def path(self) -> str:
        """URL path segments: ``kota-bandung/dpmptsp/pbg`` (empty for everything)."""
        return "/".join(self.parts)

    def filters(self) -> list[dict[str, Any]]:
        return [{"term": {FIELDS[name]: getattr(self, name)}} for name in LEVELS
                if getattr(self, name)]


def split_qualified(value: str) -> tuple[str | None, str]:
    """``kota-bandung/dpmptsp`` → (``kota-bandung``, ``dpmptsp``); a bare code → (None, code)."""
    head, sep, tail = value.partition("/")
    return (head or None, tail) if sep else (None, value)


def qualified(jurisdiction: str, code: str) -> str:
    return f"{jurisdiction}/{code}"


def owners_body(level: str, code: str) -> dict[str, Any]:
    """``_search`` body: which (jurisdiction[, department]) hold this bare department or
    service code among the indexed cases."""
    if level not in ("department", "service"):
        raise ValueError(f"only department and service codes repeat, not {level!r}")
    inner: dict[str, Any] = {"terms": {"field": "department_code", "size": 50}}
    return {"size": 0, "query": {"bool": {"filter": [{"term": {FIELDS[level]: code}}]}},
            "aggs": {"owners": {"terms": {"field": "jurisdiction_code", "size": 100},
                                "aggs": {"departments": inner}}}}


def parse_owners(level: str, code: str, aggs: dict[str, Any]) -> list[Place]:
    places = []
    for bucket in aggs.get("owners", {}).get("buckets", []):
        jurisdiction = str(bucket["key"])
        if level == "department":
            places.append(Place(jurisdiction, code))
            continue
        for inner in bucket.get("departments", {}).get("buckets", []):
            places.append(Place(jurisdiction, str(inner["key"]), code))
    return sorted(set(places), key=lambda p: p.parts)
