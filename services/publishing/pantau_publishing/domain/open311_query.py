"""Open311 GeoReport v2 request parameters: what a client may ask, validated, and the
Elasticsearch query for it (plain dicts, unit-testable; no client import).

The rules (wiki.open311.org/GeoReport_v2, "GET Service Requests" and "Optional Arguments"):

* ``jurisdiction_id`` is required when the endpoint serves more than one jurisdiction (400 when
  missing, 404 when unknown); with exactly one configured it may be left out.
* An optional argument passed empty is the same as one not passed at all.
* ``service_request_id``: comma-separated ids; it overrides every other argument (only the
  jurisdiction still scopes it).
* ``service_code`` and ``status`` (``open``/``closed``): comma-separated lists, or repeated.
* ``start_date``/``end_date``: W3C date-times with a time zone (``Z`` or ``±hh:mm``); a bare
  ``YYYY-MM-DD`` is that whole day in the jurisdiction's time zone. No dates: the last 90 days;
  one date: 90 days from (or up to) it; both: may not span more than 90 days.
* At most 1,000 requests per answer (newest ``requested_datetime`` first); ``page`` and
  ``page_size`` (a common extension) page on, up to Elasticsearch's 10,000-hit window.

Every violation raises ``Open311Error`` with the HTTP status and the description the client
sees (Open311's own ``errors`` format, never problem+json).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from pantau_contracts.vocabulary import Open311Status

WINDOW = timedelta(days=90)
DEFAULT_LIMIT = 1000
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window
MAX_IDS = 1000
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_PARAM = 20_000  # characters of one parameter (1,000 ids of up to 20 characters)

# an offset whose "+" arrived as a space (a "+" not percent-encoded in a query string is one)
_SPACE_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}T[0-9:.,]+) (\d{2}(?::?\d{2})?)$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Open311Error(Exception):
    """An Open311 error: ``status`` is the HTTP status (and the error's ``code``)."""

    def __init__(self, status: int, description: str) -> None:
        self.status, self.description = status, description
        super().__init__(f"{status}: {description}")


@dataclass(frozen=True)
class RequestsQuery:
    """A validated GET Service Requests: ``ids`` set means nothing else counts."""

    jurisdiction: str
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    size: int = DEFAULT_LIMIT


def comma_list(values: Iterable[str | None]) -> tuple[str, ...]:
    """Every non-empty item of comma-separated (and possibly repeated) values, trimmed, in
    order, without duplicates."""
    items: list[str] = []
    for value in values:
        for item in (value or "").split(","):
            item = item.strip()
            if item and item not in items:
                items.append(item)
    return tuple(items)


def resolve_jurisdiction(raw: str | None, known: Collection[str]) -> str:
    """The jurisdiction asked for: required unless exactly one is served (400 missing, 404
    unknown), the one served when left out."""
    value = (raw or "").strip()
    if not value:
        if len(known) == 1:
            return next(iter(known))
        raise Open311Error(400, "jurisdiction_id was not provided; this endpoint serves "
                                f"several jurisdictions: {', '.join(sorted(known))}")
    if value not in known:
        raise Open311Error(404, f"jurisdiction_id {value[:80]!r} was not found; this endpoint "
                                f"serves: {', '.join(sorted(known))}")
    return value


def parse_instant(raw: str | None, name: str, zone: tzinfo, *, end: bool = False
                  ) -> datetime | None:
    """A W3C date-time with its offset, or a date (its first — for ``end``, its last —
    moment in ``zone``); None when empty. 400 when it is neither, or has no time zone."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > 64:
        raise Open311Error(400, f"{name} is not a W3C date-time (e.g. 2010-01-01T00:00:00Z)")
    if _DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise Open311Error(400, f"{name} {value!r} is not a date") from None
        return _plausible(datetime.combine(day, time.max if end else time.min, zone), name)
    # RFC 3339 allows a lower-case "t" and "z"; a "+" may have arrived as a space
    value = _SPACE_OFFSET.sub(r"\1+\2", value.upper())
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not a W3C date-time "
                                "(e.g. 2010-01-01T00:00:00Z)") from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise Open311Error(400, f"{name} {value!r} has no time zone: add Z or an offset such "
                                "as +07:00")
    return _plausible(instant, name)


def _plausible(instant: datetime, name: str) -> datetime:
    """Years far from ours are a typo — and year 1 or 9999 overflows when converted or when
    the 90-day window is added (a 500, not an answer)."""
    if not MIN_YEAR <= instant.year <= MAX_YEAR:
        raise Open311Error(400, f"{name} must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return instant


def window(start: datetime | None, end: datetime | None, now: datetime
           ) -> tuple[datetime, datetime | None]:
    """The requested_datetime range searched: the last 90 days by default, 90 days from a
    lone start or up to a lone end, and never more than 90 days (400)."""
    if start is None and end is None:
        return now - WINDOW, None
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return start, end


def _int(raw: str | None, name: str, default: int, high: int) -> int:
    value = (raw or "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 6) or \
            not 1 <= int(value) <= high:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {high}")
    return int(value)


def parse_requests(params: dict[str, list[str]], jurisdiction: str, zone: tzinfo,
                   now: datetime) -> RequestsQuery:
    """Validate the query parameters (each name → every value given) of GET Service
    Requests for ``jurisdiction`` (already resolved)."""
    for name, values in params.items():
        if sum(len(v) for v in values) > MAX_PARAM:
            raise Open311Error(400, f"{name} is longer than {MAX_PARAM} characters")
    # receipt numbers are stored upper case; "bdg-1" asks for BDG-1
    ids = comma_list(v.upper() for v in params.get("service_request_id", ()))
    if ids:  # "This overrides all other arguments."
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id at once")
        return RequestsQuery(jurisdiction, ids=ids, size=len(ids))
    statuses = frozenset(comma_list(params.get("status", ())))
    wrong = sorted(statuses - {s.value for s in Open311Status})
    if wrong:
        raise Open311Error(400, f"status {wrong[0][:40]!r} is not open or closed")
    start = parse_instant(_last(params, "start_date"), "start_date", zone)
    end = parse_instant(_last(params, "end_date"), "end_date", zone, end=True)
    start, end = window(start, end, now)
    page = _int(_last(params, "page"), "page", 1, MAX_RESULT_WINDOW)
    size = _int(_last(params, "page_size"), "page_size", DEFAULT_LIMIT, DEFAULT_LIMIT)
    if page * size > MAX_RESULT_WINDOW:
        raise Open311Error(400, f"page × page_size may not exceed {MAX_RESULT_WINDOW}; "
                                "narrow start_date/end_date instead")
    return RequestsQuery(jurisdiction, service_codes=comma_list(params.get("service_code", ())),
                         statuses=statuses, start=start, end=end, page=page, size=size)


def _last(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def requests_body(query: RequestsQuery) -> dict[str, Any]:
    """The ``_search`` body over the case index for ``query``."""
    filters: list[dict[str, Any]] = [{"term": {"jurisdiction_code": query.jurisdiction}}]
    if query.ids:
        filters.append({"terms": {"receipt_number": list(query.ids)}})
        return {"query": {"bool": {"filter": filters}}, "size": len(query.ids),
                "track_total_hits": False}
    if query.service_codes:
        filters.append({"terms": {"service_code": list(query.service_codes)}})
    if len(query.statuses) == 1:  # both statuses (or none) is every request
        filters.append({"term": {"open": Open311Status.OPEN in query.statuses}})
    bounds: dict[str, str] = {}
    if query.start is not None:
        bounds["gte"] = _utc(query.start)
    if query.end is not None:
        bounds["lte"] = _utc(query.end)
    if bounds:
        filters.append({"range": {"submitted_at": {**bounds,
                                                   "format": "strict_date_optional_time"}}})
    return {"query": {"bool": {"filter": filters}},
            "sort": [{"submitted_at": "desc"}, {"receipt_number": "asc"}],
            "from": (query.page - 1) * query.size, "size": query.size,
            "track_total_hits": False}
