"""Live updates of a case page: ``/kasus/{receipt}/events`` (server-sent events).

Revisions come from the process's one shared poll (``portal.revisions.RevisionHub``: one search
every ``PANTAU_SSE_POLL_SECONDS`` for all watched cases); the stream sends ``event: revision``
at connect and whenever its case's revision changes, a comment as heartbeat, and ends after a
few minutes (EventSource reconnects by itself). Streams are capped per client address
(``PANTAU_SSE_MAX_STREAMS_PER_IP``: 429) and per process (``PANTAU_SSE_MAX_STREAMS``: 503), both
with ``Retry-After``; the cap is checked before the search engine is asked anything.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from pantau_publishing.portal.deps import records
from pantau_publishing.portal.revisions import RevisionHub, StreamRefused, Watch
from pantau_publishing.service.records import normalise_receipt

router = APIRouter(include_in_schema=False)
STREAM_SECONDS = 300
HEARTBEAT_SECONDS = 15


class _Stream(StreamingResponse):
    """Frees the stream's slot when the response ends, however it ends (even unstarted)."""

    def __init__(self, watch: Watch, body: AsyncIterator[str]) -> None:
        super().__init__(body, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.watch.close()


def hub(request: Request) -> RevisionHub:
    found: RevisionHub = request.app.state.revisions
    return found


@router.get("/kasus/{receipt_number}/events")
async def case_events(request: Request, receipt_number: str) -> StreamingResponse:
    receipt = normalise_receipt(receipt_number)
    if receipt is None:
        raise HTTPException(404, "unknown receipt number")
    client = request.client.host if request.client else "unknown"
    try:
        watch = hub(request).open(receipt, client)
    except StreamRefused as refused:
        raise HTTPException(refused.status, refused.detail,
                            headers={"Retry-After": str(refused.retry_after)}) from None
    try:
        first = hub(request).known(receipt)
        if first is None:  # not watched yet: one real-time GET, which also tells a 404
            first = await run_in_threadpool(records(request).revision, receipt)
    except BaseException:
        watch.close()
        raise
    if first is None:
        watch.close()
        raise HTTPException(404, "unknown receipt number")
    return _Stream(watch, _events(watch, first))


async def _events(watch: Watch, first: int) -> AsyncIterator[str]:
    last = first
    yield "retry: 5000\n"
    yield f"event: revision\ndata: {json.dumps({'revision': last})}\n\n"
    started = time.monotonic()
    try:
        while time.monotonic() - started < STREAM_SECONDS:
            try:
                current = await asyncio.wait_for(watch.updates.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if current != last:
                last = current
                yield f"event: revision\ndata: {json.dumps({'revision': current})}\n\n"
    finally:
        watch.close()
