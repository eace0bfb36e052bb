"""RFC 9457 answers for both FastAPI apps (intake's API, the portal's machine endpoints).

``problem_response(problem, instance, sparse=False)`` is the one way a ``Problem``
(``pantau_contracts.problems``) becomes an HTTP answer: its status, its headers, the body of
``Problem.to_dict`` and ``Content-Type: application/problem+json``. ``install(app)`` registers
the exception handler that answers a raised ``Problem`` so (``sparse`` as for the response).
What each app says for its other errors (Starlette's HTTP errors, request validation) stays in
the app: the two answer different audiences and their tests pin each wording.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pantau_contracts.problems import PROBLEM_CONTENT_TYPE, Problem

__all__ = ["install", "problem_response"]


def problem_response(problem: Problem, instance: str | None = None, *,
                     sparse: bool = False) -> JSONResponse:
    """``problem`` as ``application/problem+json`` with its status and headers."""
    return JSONResponse(problem.to_dict(instance, sparse=sparse), status_code=problem.status,
                        media_type=PROBLEM_CONTENT_TYPE, headers=dict(problem.headers))


def install(app: FastAPI, *, sparse: bool = False) -> None:
    """Answer every ``Problem`` an endpoint raises with ``problem_response`` (its path as
    ``instance``)."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path, sparse=sparse)
