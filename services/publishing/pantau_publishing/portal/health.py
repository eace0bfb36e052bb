"""Liveness (``/healthz``) and readiness (``/readyz``: the search cluster answers) probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    es: Any = getattr(request.app.state, "es", None)
    if es is None:
        return JSONResponse({"status": "ok"})
    try:
        # GET / answers 405 on the integ-test-zip distribution: ask the cluster health instead
        es.cluster.health(timeout="2s")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with the reason
        return JSONResponse({"status": "unavailable", "detail": type(exc).__name__},
                            status_code=503)
    return JSONResponse({"status": "ok"})
