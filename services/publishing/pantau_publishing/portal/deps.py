"""Request-scoped access to the use cases and common parameter handling."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from pantau_publishing.domain.query import CaseQuery, parse_query
from pantau_publishing.service.records import PublicRecords

QUERY_PARAMS = ("q", "jurisdiction", "department", "service", "status", "kecamatan", "overdue",
                "late_reported", "from", "to", "sort", "page", "size")


def records(request: Request) -> PublicRecords:
    value: PublicRecords = request.app.state.records
    return value


def case_query(request: Request) -> CaseQuery:
    """The search parameters of the request, validated (``QueryError`` → 400)."""
    return parse_query({name: request.query_params.get(name) for name in QUERY_PARAMS})


def base_url(request: Request) -> str:
    """The configured public base URL (``PANTAU_PUBLIC_BASE_URL``) — never the ``Host`` header
    or ``request.base_url``, which any client sets."""
    configured: str = request.app.state.settings.base_url
    return configured


def local_path(path: str) -> str:
    """``path`` as a same-site reference: ``//evil.example/x`` (a protocol-relative URL when
    written into a link or ``Location``) becomes ``/evil.example/x``; backslashes, which
    browsers read as slashes, too."""
    return "/" + path.replace("\\", "/").lstrip("/")


def url_with(path: str, params: dict[str, str], **changes: str | None) -> str:
    merged = {**params}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return f"{path}?{urlencode(merged)}" if merged else path
