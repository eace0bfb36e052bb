"""Open-data export of the public record: ``/export/cases.csv`` and ``/export/cases.ndjson``,
streamed (search_after paging), same filters as search, with the date each status was reached.

Both clocks: per status the time the department claims it was reached (``{status}_at``) and the
time Pantau received that report (``{status}_received_at``); per case ``late_reported`` (some
step reported later than ``reporting_tolerance_days`` allows) and ``steps_reported_late``. NDJSON
also carries the whole timeline, every step with ``at``, ``received_at``, ``counted_at``,
``late_reported`` and ``reporting_delay_days``.

CSV cells are neutralised against formula injection (OWASP "CSV injection"): a spreadsheet would
run a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula, so
such a cell gets a leading ``'``. NDJSON is data for programs and is left as it is.

Exports are bounded (OWASP API4): at most ``PANTAU_EXPORT_MAX_CONCURRENT`` run at once per
process (one more answers 503 with ``Retry-After``), and one that has run for
``PANTAU_EXPORT_TIMEOUT_SECONDS`` is cut off (the response ends without its final chunk, so a
client sees an incomplete download rather than a complete-looking short file).
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.vocabulary import PublicStatus
from pantau_publishing.portal.deps import case_query, records
from pantau_publishing.portal.errors import problems

router = APIRouter(prefix="/export", tags=["export"])
RETRY_AFTER = 30
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The export, streamed", "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/x-ndjson": {"schema": {"type": "string"}}}},
    **problems(400, 404, 422, 503, s404="Format not offered",
               s503="As many exports running as the server allows; see Retry-After")}


class ExportTimeout(Exception):
    """An export ran past its deadline."""


class ExportSlots:
    """The process's export permits (a non-blocking semaphore)."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def take(self) -> bool:
        return self._slots.acquire(blocking=False)

    def give(self) -> None:
        self._slots.release()


class _Export(StreamingResponse):
    """Gives its permit back when the response ends, however it ends (even unstarted)."""

    def __init__(self, slots: ExportSlots, body: Iterator[str], media_type: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(body, media_type=media_type, headers=headers)
        self._permit: ExportSlots | None = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._permit is not None:
                self._permit.give()
                self._permit = None


def _until(deadline: float, cases: Iterator[PublicCaseV2]) -> Iterator[PublicCaseV2]:
    for case in cases:
        if time.monotonic() > deadline:
            raise ExportTimeout("the export ran past PANTAU_EXPORT_TIMEOUT_SECONDS")
        yield case
COLUMNS = ["receipt_number", "revision", "jurisdiction_code", "jurisdiction_name",
           "department_code", "department_name", "service_code", "service_name",
           "catalogue_version", "kecamatan", "channel", "status", "stage_code", "submitted_at",
           "updated_at", "closed_at", "due_date", "max_working_days", "working_days_elapsed",
           "overdue", "withdrawn", "reporting_tolerance_days", "late_reported",
           "steps_reported_late"] + [
    column for s in PublicStatus for column in (f"{s.value}_at", f"{s.value}_received_at")]


def row(case: PublicCaseV2) -> dict[str, Any]:
    data = case.model_dump(mode="json", exclude={"timeline", "stage_name"})
    data["department_name"] = case.department_name.id
    data["service_name"] = case.service_name.id
    ordered = sorted(case.timeline, key=lambda e: e.seq)
    data["steps_reported_late"] = sum(1 for e in ordered if e.late_reported)
    for status in PublicStatus:  # lifecycle dates: first time each status was reached
        first = next((e for e in ordered if e.status == status), None)
        data[f"{status.value}_at"] = first.at.isoformat() if first else None
        data[f"{status.value}_received_at"] = first.received_at.isoformat() if first else None
    return {column: data.get(column) for column in COLUMNS}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a ``'`` in front when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(cases: Iterator[PublicCaseV2]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for case in cases:
        writer.writerow({k: spreadsheet_safe(v) for k, v in row(case).items()})
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _ndjson(cases: Iterator[PublicCaseV2]) -> Iterator[str]:
    for case in cases:
        yield json.dumps({**row(case), "timeline": case.model_dump(mode="json")["timeline"]},
                         ensure_ascii=False) + "\n"


@router.get("/cases.{fmt}", summary="Export public cases (CSV or NDJSON), search filters apply",
            responses=RESPONSES, response_class=StreamingResponse)
def export(request: Request, fmt: str = Path(
        description="csv or ndjson", json_schema_extra={"enum": ["csv", "ndjson"]})
        ) -> StreamingResponse:
    if fmt not in ("csv", "ndjson"):
        raise HTTPException(404, f"export format {fmt!r} is not offered (csv or ndjson)")
    query = case_query(request)
    slots: ExportSlots = request.app.state.export_slots
    if not slots.take():
        raise HTTPException(503, "as many exports are running as the server allows; retry later",
                            headers={"Retry-After": str(RETRY_AFTER)})
    try:
        deadline = time.monotonic() + float(request.app.state.settings.export_timeout_seconds)
        cases = _until(deadline, records(request).export(query))
        if fmt == "csv":
            return _Export(slots, _csv(cases), "text/csv; charset=utf-8", {
                "Content-Disposition": 'attachment; filename="pantau-cases.csv"'})
        return _Export(slots, _ndjson(cases), "application/x-ndjson")
    except BaseException:
        slots.give()
        raise
