"""Errors: RFC 9457 problem+json for machine endpoints, a friendly HTML page for people.

The problem+json answers are the shared ``Problem`` (``pantau_contracts.problems``) in its sparse
form (``detail``, ``instance`` and ``errors`` only when they hold something) through
``pantau_platform.problems.problem_response``, the same path intake's API answers by. What is
the portal's own: which paths are machine endpoints, the OpenAPI ``responses`` entries, and the
wording of each answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pantau_contracts import FieldProblem
from pantau_contracts.problems import PROBLEM_CONTENT_TYPE, Problem
from pantau_platform.problems import problem_response
from pantau_publishing.domain.query import QueryError
from pantau_publishing.portal.deps import local_path

PROBLEM = PROBLEM_CONTENT_TYPE
INVALID_PARAMETER = "invalid-parameter"
MACHINE_PREFIXES = ("/api/", "/open311/", "/export/", "/feeds/", "/feed.", "/data/", "/data.json")
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["type", "title", "status"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                   "status": {"type": "integer"}, "detail": {"type": "string"},
                   "instance": {"type": "string"},
                   "errors": {"type": "array", "items": {"type": "object"}}}}
DESCRIPTIONS = {400: "Invalid query parameter", 404: "Not found (unknown format, scope or id)",
                422: "Parameter does not match its schema", 503: "Temporarily unavailable; "
                "see Retry-After"}


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these statuses, answered as problem+json (RFC 9457).
    ``descriptions`` override by ``s404="..."``."""
    return {status: {"description": descriptions.get(f"s{status}", DESCRIPTIONS.get(
        status, "Error")) + " (problem+json)", "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}
        for status in statuses}


def problem(status: int, title: str, detail: str = "", *, type_: str = "about:blank",
            instance: str | None = None,
            errors: Iterable[FieldProblem | Mapping[str, str]] = (),
            **extra: Any) -> JSONResponse:
    """A sparse problem+json answer; ``type_`` a slug of ``https://pantau.id/problems/`` or a
    URI (``about:blank``); ``errors`` as ``FieldProblem`` or ``{field, problem, expected}``."""
    fields = tuple(e if isinstance(e, FieldProblem) else FieldProblem(**e) for e in errors)
    # a URI reference: "//host/x" would name another site
    return problem_response(Problem(type_, title, status, detail, fields, extra=extra),
                            local_path(instance) if instance else None, sparse=True)


def is_machine(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PREFIXES)


def install(app: FastAPI, render_error: Any) -> None:
    """Register handlers. ``render_error(request, status, title_key, detail)`` renders HTML."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_machine(request):
            title = "Not Found" if exc.status_code == 404 else str(exc.detail)
            response: Response = problem(
                exc.status_code, title, str(exc.detail) if exc.status_code != 404
                else f"{local_path(request.url.path)} does not exist",
                instance=request.url.path)
        else:
            response = render_error(request, exc.status_code, str(exc.detail))
        # the exception's own headers: a 405 carries Allow (RFC 9110 §15.5.6), a 429 Retry-After
        response.headers.update(dict(exc.headers or {}))
        return response

    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError) -> Response:
        if is_machine(request):
            return problem(400, "Invalid query parameter", str(exc), type_=INVALID_PARAMETER,
                           instance=request.url.path,
                           errors=(FieldProblem(exc.field, exc.problem, exc.expected),))
        response: Response = render_error(request, 400, f"{exc.field}: {exc.problem} "
                                          f"({exc.expected})")
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                   "problem": e["msg"], "expected": e.get("type", "")} for e in exc.errors()]
        if is_machine(request):
            return problem(422, "Invalid request", "; ".join(
                f"{e['field']}: {e['problem']}" for e in errors), type_=INVALID_PARAMETER,
                instance=request.url.path,
                errors=tuple(FieldProblem(**e) for e in errors))
        response: Response = render_error(request, 400, "; ".join(
            f"{e['field']}: {e['problem']}" for e in errors))
        return response
