"""RFC 9457 problem details: the one shape every refusal takes, on HTTP and on AMQP.

A ``Problem`` names its kind with a stable slug (``type`` becomes
``https://pantau.id/problems/{slug}``), says what happened in Bahasa Indonesia-neutral plain
English (``title``/``detail``), and lists every field at fault in ``errors`` as
``{field, problem, expected}`` — the same triple ``ContractViolation`` carries — so a department's
developer can fix the event without reading Pantau's code.

``Problem`` itself is the shared RFC 9457 value (``pantau_contracts.problems``; the HTTP answer is
``pantau_platform.problems``, used by the portal too); this module is intake's vocabulary of
refusals built with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pantau_contracts import ContractViolation, FieldProblem
from pantau_contracts.problems import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, Problem

__all__ = ["PROBLEM_BASE", "PROBLEM_CONTENT_TYPE", "Problem"]  # the shared value, re-exported

def invalid_event(exc: ContractViolation) -> Problem:
    """422: the body is JSON but breaks the event contract."""
    return Problem("invalid-event", "The event does not match the contract", 422,
                   f"{len(exc.problems)} problem(s) in the event; see 'errors'.",
                   tuple(exc.problems),
                   extra={"event": {"id": exc.event_id, "source": exc.source,
                                    "type": exc.event_type}})


def malformed(detail: str, errors: Iterable[FieldProblem] = ()) -> Problem:
    """400: not parseable at all (bad JSON, bad encoding, bad header)."""
    return Problem("malformed-request", "The request could not be parsed", 400, detail,
                   tuple(errors))


def unsupported_media_type(content_type: str) -> Problem:
    """415: a content type intake does not speak."""
    return Problem(
        "unsupported-media-type", "Unsupported content type", 415,
        f"Content-Type {content_type!r} is not accepted.",
        (FieldProblem("Content-Type", f"{content_type!r} is not supported",
                      "application/cloudevents+json (structured), application/json with ce-* "
                      "headers (binary), or application/cloudevents-batch+json (batch)"),))


def too_large(limit: int, what: str) -> Problem:
    """413: the body (or the batch) exceeds a limit."""
    return Problem("payload-too-large", "The request is too large", 413,
                   f"The {what} exceeds the limit of {limit}.",
                   (FieldProblem("body", f"exceeds {limit}", f"at most {limit}"),))


def unauthenticated(detail: str, field_name: str = "X-Pantau-Signature",
                    expected: str = "a valid signature; see the API documentation") -> Problem:
    """401: who is calling could not be established."""
    return Problem("unauthenticated", "Authentication failed", 401, detail,
                   (FieldProblem(field_name, detail, expected),),
                   headers={"WWW-Authenticate": 'PantauHMAC realm="pantau-intake"'})


def replayed(detail: str) -> Problem:
    """409: this exact signed request was already received (a replay)."""
    return Problem("replayed-request", "This signed request was already received", 409, detail,
                   (FieldProblem("X-Pantau-Signature", "was already used",
                                 "a fresh timestamp and signature for every attempt"),))


def forbidden(detail: str, errors: Iterable[FieldProblem]) -> Problem:
    """403: authenticated, but not allowed to emit this event."""
    return Problem("forbidden", "Not allowed for this department", 403, detail, tuple(errors))


def id_conflict(source: str, event_id: str) -> Problem:
    """409: the (source, id) was already accepted with a different content."""
    return Problem("event-id-conflict", "The event id was already used for another event", 409,
                   f"An event with source {source!r} and id {event_id!r} was accepted before "
                   "with different content; ids are unique per event.",
                   (FieldProblem("id", "already used for a different event",
                                 "a new id for a new event; the same id only for a retry"),))


def rate_limited(retry_after: float) -> Problem:
    """429: the department's token bucket is empty."""
    seconds = max(1, int(retry_after + 0.999))
    return Problem("rate-limited", "Too many events", 429,
                   f"The department's rate limit is exhausted; retry after {seconds} s.",
                   headers={"Retry-After": str(seconds)})


def unavailable(detail: str) -> Problem:
    """503: the broker did not confirm; nothing was accepted, retry later."""
    return Problem("broker-unavailable", "Events could not be accepted right now", 503,
                   detail + " Nothing was accepted; retry the same events later.",
                   headers={"Retry-After": "5"})


def degraded(waiting_for: Iterable[str]) -> Problem:
    """503 from ``/readyz``: what the process is waiting for (``broker``, ``database``)."""
    names = sorted(set(waiting_for))
    return Problem("degraded", "Not ready", 503, "degraded: waiting for " + ", ".join(names),
                   headers={"Retry-After": "5"}, extra={"waiting_for": names})


def event_not_found(event_id: str) -> Problem:
    """404 from ``GET /v1/events/{id}``: no such event of YOURS is known (another department's
    event is also 404, never 403, so ids cannot be probed)."""
    return Problem("event-not-found", "No such event", 404,
                   f"No event {event_id!r} of your department is known: it was never accepted, "
                   "belongs to another department, or is older than the retention (accepted: "
                   "24 h; applied/refused: 30 days by default).",
                   (FieldProblem("id", "is not one of your known events",
                                 "the id of an event your department sent"),))
