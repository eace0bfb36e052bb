"""The HTTP framework's floor: what one request costs intake's server before any Pantau logic.

Three ASGI apps served by the same uvicorn (httptools) as ``pantau_intake.http``, each answering
``POST /v1/events`` with a fixed 202 JSON body after reading the request body:

* ``raw`` — a bare ASGI callable: uvicorn's own cost;
* ``fastapi`` — a bare FastAPI app, async endpoint;
* ``pantau`` — FastAPI built as intake builds it (its telemetry off, the Prometheus
  instrumentator, ``tracing.instrument_fastapi`` with nothing exported, the problem+json
  handlers) and an endpoint that hands its work to a thread as intake's does (one
  ``run_in_threadpool``), doing nothing there.

``python -m bench.intake_http --floor`` serves each in turn (``PANTAU_BENCH_FLOOR`` names the
app) and drives it with the same signed requests and client as the real server; server CPU per
request is the figure (``docs/performance.md``: what 800 requests/s per process leaves).
"""

from __future__ import annotations

import os
from typing import Any

# At module level: the endpoints' annotations are strings (PEP 563) that FastAPI resolves here.
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

BODY = b'{"id":"x","source":"/bench","status":"accepted"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
APPS = ("raw", "fastapi", "pantau")


async def raw(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def bare_fastapi() -> Any:
    app = FastAPI()

    @app.post("/v1/events", status_code=202)
    async def post(request: Request) -> Response:
        await request.body()
        return Response(BODY, status_code=202, media_type="application/json")

    return app


def pantau_fastapi() -> Any:
    from pantau_platform import problems, tracing
    from pantau_platform.metrics import instrument

    tracing.setup("bench-floor")  # exports nothing (the default): SilentServerSpans, as intake
    app = FastAPI(telemetry=tracing.FASTAPI_TELEMETRY_OFF)
    instrument(app)
    tracing.instrument_fastapi(app)
    problems.install(app)

    def nothing(body: bytes) -> Response:
        return Response(BODY, status_code=202, media_type="application/json")

    @app.post("/v1/events", status_code=202)
    async def post(request: Request) -> Response:
        return await run_in_threadpool(nothing, await request.body())

    return app


def _app() -> Any:
    kind = os.environ.get("PANTAU_BENCH_FLOOR", "raw")
    return {"raw": lambda: raw, "fastapi": bare_fastapi, "pantau": pantau_fastapi}[kind]()


app = _app()
