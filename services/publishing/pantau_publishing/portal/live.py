"""Live updates of a case page: ``/kasus/{receipt}/events`` (server-sent events).

The server polls the index cheaply (a real-time GET of one document) every
``PANTAU_SSE_POLL_SECONDS`` and sends ``event: revision`` when the case's revision changes (and
once at connect). The stream ends after a few minutes; EventSource reconnects by itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pantau_publishing.portal.deps import records

router = APIRouter(include_in_schema=False)
STREAM_SECONDS = 300
HEARTBEAT_SECONDS = 15


@router.get("/kasus/{receipt_number}/events")
async def case_events(request: Request, receipt_number: str) -> StreamingResponse:
    service = records(request)
    receipt = receipt_number  # PublicRecords.revision normalises it like every other lookup
    first = await run_in_threadpool(service.revision, receipt)
    if first is None:
        raise HTTPException(404, "unknown receipt number")
    poll = float(request.app.state.settings.sse_poll_seconds)

    async def stream() -> AsyncIterator[str]:
        last = first
        yield "retry: 5000\n"
        yield f"event: revision\ndata: {json.dumps({'revision': last})}\n\n"
        started = beat = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            await asyncio.sleep(poll)
            current = await run_in_threadpool(service.revision, receipt)
            if current is not None and current != last:
                last = current
                yield f"event: revision\ndata: {json.dumps({'revision': current})}\n\n"
            elif time.monotonic() - beat > HEARTBEAT_SECONDS:
                beat = time.monotonic()
                yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
