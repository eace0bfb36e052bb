"""Liveness (``/healthz``) and readiness (``/readyz``: the search cluster answers) probes.

``/readyz`` answers 200 ``{"status": "ok"}`` or a 503 problem (``application/problem+json``)
``"detail": "degraded: waiting for elasticsearch"`` with ``waiting_for: ["elasticsearch"]`` and
the error's type in ``reason``. Only Elasticsearch makes the portal unready: it serves every page
from it. The transparency log's database is not part of readiness — its endpoints answer 503 on
their own while it is away, and the rest of the portal keeps serving.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pantau_publishing.portal.errors import problem

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
        return degraded(["elasticsearch"], request.url.path, reason=type(exc).__name__)
    return JSONResponse({"status": "ok"})


def degraded(waiting_for: list[str], instance: str, **extra: Any) -> JSONResponse:
    """The 503 problem naming what the portal waits for."""
    response = problem(503, "Not ready", "degraded: waiting for " + ", ".join(waiting_for),
                       type_="https://pantau.id/problems/degraded", instance=instance,
                       waiting_for=waiting_for, **extra)
    response.headers["Retry-After"] = "5"
    return response
