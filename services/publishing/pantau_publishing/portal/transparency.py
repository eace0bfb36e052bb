"""The transparency log's public endpoints (``/api/v1/transparency/*`` and a case's proof).

Answers come straight from tracking's log (``TransparencyLog`` port, read-only): signed
checkpoints, the public keys that signed them, consistency proofs between two tree sizes, the
inclusion proof of every entry of one case and the leaves themselves in pages (what a monitor
hashes to recompute every checkpoint's root). Formats: ``docs/transparency.md``; anyone can
check them with ``tools/verifier/pantau_verify.py`` without trusting this server.

Refusals are problem+json: 400 for sizes with no proof, 404 for an unknown receipt or
checkpoint, 503 when the log cannot be read (tracking not migrated yet, database away).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from pantau_contracts.payloads.public import PublicCaseV2, TimelineEntryV2
from pantau_publishing.portal.errors import PROBLEM, problem, problems
from pantau_publishing.service.ports import TransparencyLog
from pantau_publishing.service.records import normalise_receipt
from pantau_transparency.leaf import TIME_FORMAT, Leaf, LeafError
from pantau_transparency.merkle import leaf_hash, verify_inclusion
from pantau_transparency.sql import NoCheckpoint

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["transparency"], responses=problems(422))
T = TypeVar("T")
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": text + " (problem+json)", "content": {PROBLEM: {}}}
    for status, text in ((400, "No proof exists for these sizes"),
                         (404, "Unknown receipt number or checkpoint"),
                         (503, "The log cannot be read right now"))}
# Proofs of a finished checkpoint never change; the latest checkpoint changes every minute.
IMMUTABLE = "public, max-age=86400, immutable"
SHORT = "public, max-age=10"
MAX_SIZE = 2**63 - 1  # a BIGINT: larger sizes are a 422 here, not a database error (503)


# A step logged but not yet in the index (the indexer lags a little) is not a mismatch
# until it is older than this — the verifier's default --max-pending-age too.
PUBLISH_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class HistoryCheck:
    """What the case page says about its history and the log (``check_history``).

    ``state``: ``verified`` (every public step is the logged leaf, covered by the latest
    checkpoint), ``pending`` (some steps not yet in a signed checkpoint, the rest verified),
    ``mismatch`` (a step differs from its leaf, is not logged, or a logged step is missing
    from the page) or ``unavailable`` (no log, or it could not be read)."""

    state: str
    tree_size: int | None = None
    timestamp: datetime | None = None
    differs: tuple[int, ...] = ()  # public steps whose leaf is not the logged one
    unlogged: tuple[int, ...] = ()  # public steps neither logged nor pending
    missing: tuple[int, ...] = ()  # logged steps missing from the public record (not recent)
    pending: tuple[int, ...] = ()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def public_leaf(receipt_number: str, entry: TimelineEntryV2) -> str:
    """The log leaf of one public timeline step, rebuilt from the public record."""
    leaf = Leaf(receipt_number=receipt_number, seq=entry.seq, status=entry.status.value,
                stage_code=entry.stage_code, claimed_at=_aware(entry.at),
                received_at=_aware(entry.received_at), counted_at=_aware(entry.counted_at),
                note=None if entry.note is None else str(entry.note),
                late_reported=entry.late_reported)
    return str(leaf.text())


def _logged_received(leaf: str) -> datetime | None:
    try:
        return datetime.strptime(json.loads(leaf)["received_at"], TIME_FORMAT).replace(
            tzinfo=UTC)
    except (ValueError, KeyError, TypeError):
        return None


def check_history(log_: TransparencyLog | None, case: PublicCaseV2,
                  now: datetime | None = None) -> HistoryCheck:
    """Compare the case's public timeline with its logged leaves and their inclusion in the
    latest checkpoint (``receipt_proof``); never raises (a log that cannot be read is
    ``unavailable``)."""
    proof = None if log_ is None else _proof(log_, case.receipt_number)
    if proof is None:
        return HistoryCheck("unavailable")
    try:
        checkpoint = proof["checkpoint"]
        size, root = int(checkpoint["tree_size"]), bytes.fromhex(checkpoint["root_hash"])
        timestamp = datetime.fromisoformat(checkpoint["timestamp"].replace("Z", "+00:00"))
        entries = {int(e["seq"]): e for e in proof["entries"]}
        pending = {int(s) for s in proof["pending"]} - set(entries)
    except Exception as exc:  # noqa: BLE001 - the page renders; it says it could not check
        log.warning("cannot check %s against the transparency log: %s", case.receipt_number,
                    exc)
        return HistoryCheck("unavailable")
    differs: list[int] = []
    unlogged: list[int] = []
    waiting: list[int] = []
    public = {step.seq for step in case.timeline}
    for step in case.timeline:
        logged = entries.get(step.seq)
        if logged is None:
            (waiting if step.seq in pending else unlogged).append(step.seq)
            continue
        try:
            expected = public_leaf(case.receipt_number, step)
            hashed = leaf_hash(str(logged["leaf"]).encode("utf-8"))
            included = verify_inclusion(int(logged["leaf_index"]), size, hashed,
                                        [bytes.fromhex(h) for h in logged["audit_path"]], root)
        except (LeafError, KeyError, TypeError, ValueError):
            expected, included = "", False
        if expected != logged["leaf"] or not included:
            differs.append(step.seq)
    moment = now or datetime.now(UTC)
    missing = []
    for seq, logged in sorted(entries.items()):
        received = _logged_received(str(logged.get("leaf")))
        if seq not in public and (received is None or moment - received > PUBLISH_GRACE):
            missing.append(seq)
    state = ("mismatch" if differs or unlogged or missing else
             "pending" if waiting else "verified")
    return HistoryCheck(state, size, timestamp, tuple(differs), tuple(unlogged), tuple(missing),
                        tuple(waiting))


def _proof(log_: TransparencyLog, receipt_number: str) -> dict[str, Any] | None:
    """The case's proof against the latest checkpoint, or None (logged at the level it
    deserves: no checkpoint signed yet is expected, an unreadable log is not)."""
    try:
        return log_.receipt_proof(receipt_number)
    except NoCheckpoint as exc:
        # A new deployment's first minute, or no sequencer running: a warning on every case
        # page view was noise for the operator. (Any other LookupError — a node missing from
        # the log — is a real problem: it warns below.)
        log.debug("cannot check %s yet: %s", receipt_number, exc)
    except Exception as exc:  # noqa: BLE001 - the page renders; it says it could not check
        log.warning("cannot check %s against the transparency log: %s", receipt_number, exc)
    return None


class LogUnavailable(RuntimeError):
    """The log's database did not answer."""


def _log(request: Request) -> TransparencyLog | None:
    found: TransparencyLog | None = request.app.state.transparency
    return found


def _read(request: Request, call: Callable[[TransparencyLog], T]) -> T:
    reader = _log(request)
    if reader is None:
        raise LogUnavailable("no transparency log is configured")
    try:
        return call(reader)
    except (ValueError, LookupError):
        raise
    except Exception as exc:  # the database is away or tracking has not migrated yet
        log.warning("transparency log unreadable: %s", exc)
        raise LogUnavailable(str(exc)) from exc


def _json(body: Any, cache: str) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": cache})


def _unavailable(request: Request) -> Response:
    answer = problem(503, "Transparency log unavailable", "The log cannot be read right now; "
                     "try again in a minute.", instance=request.url.path,
                     type_="https://pantau.id/problems/log-unavailable")
    answer.headers["Retry-After"] = "60"
    return answer


@router.get("/transparency/key", responses=PROBLEMS,
            summary="Public keys that sign the log's checkpoints (Ed25519)")
def keys(request: Request) -> Response:
    try:
        return _json(_read(request, lambda r: r.keys()), SHORT)
    except LogUnavailable:
        return _unavailable(request)


@router.get("/transparency/checkpoints/latest", responses=PROBLEMS,
            summary="The latest signed checkpoint (tree size, root hash, signature)")
def latest_checkpoint(request: Request) -> Response:
    try:
        found = _read(request, lambda r: r.latest_checkpoint())
    except LogUnavailable:
        return _unavailable(request)
    if found is None:
        return problem(404, "No checkpoint yet", "The log has not signed a checkpoint yet.",
                       instance=request.url.path,
                       type_="https://pantau.id/problems/no-checkpoint")
    return _json(found, SHORT)


@router.get("/transparency/checkpoints", responses=PROBLEMS,
            summary="Signed checkpoints with a tree size above `after`, oldest first")
def checkpoints(request: Request, after: int = Query(0, ge=0, le=MAX_SIZE),
                limit: int = Query(100, ge=1, le=1000)) -> Response:
    try:
        found = _read(request, lambda r: r.checkpoints(after, limit))
    except LogUnavailable:
        return _unavailable(request)
    return _json({"checkpoints": found}, SHORT)


@router.get("/transparency/consistency", responses=PROBLEMS,
            summary="RFC 9162 consistency proof between two checkpointed tree sizes")
def consistency(request: Request, from_: int = Query(..., alias="from", ge=0, le=MAX_SIZE),
                to: int = Query(..., ge=0, le=MAX_SIZE)) -> Response:
    try:
        return _json(_read(request, lambda r: r.consistency(from_, to)), IMMUTABLE)
    except LogUnavailable:
        return _unavailable(request)
    except ValueError as exc:
        return problem(400, "No such proof", str(exc), instance=request.url.path,
                       type_="https://pantau.id/problems/invalid-parameter",
                       errors=[{"field": "from", "problem": str(exc),
                                "expected": "0 <= from <= to <= the latest tree size"}])


@router.get("/transparency/leaves", responses=PROBLEMS,
            summary="Logged leaves start..end-1 (at most 1,000; end <= latest tree size)")
def leaves(request: Request, start: int = Query(..., ge=0, le=MAX_SIZE),
           end: int = Query(..., ge=0, le=MAX_SIZE)) -> Response:
    try:
        answer = _read(request, lambda r: r.leaves(start, end))
    except LogUnavailable:
        return _unavailable(request)
    except ValueError as exc:
        return problem(400, "No such leaves", str(exc), instance=request.url.path,
                       type_="https://pantau.id/problems/invalid-parameter",
                       errors=[{"field": "end", "problem": str(exc),
                                "expected": "0 <= start <= end <= the latest tree size"}])
    # Leaves under a checkpoint never change (a monitor notices if they do).
    return _json(answer, IMMUTABLE)


@router.get("/cases/{receipt_number}/proof", responses=PROBLEMS,
            summary="Inclusion proof of every logged entry of one case")
def case_proof(request: Request, receipt_number: str,
               tree_size: int | None = Query(None, ge=1, le=MAX_SIZE)) -> Response:
    receipt = normalise_receipt(receipt_number)
    if receipt is None:
        return problem(404, "Case not found", f"{receipt_number[:60]!r} is not a receipt "
                       "number.", instance=request.url.path,
                       type_="https://pantau.id/problems/unknown-case")
    try:
        answer = _read(request, lambda r: r.receipt_proof(receipt, tree_size))
    except LogUnavailable:
        return _unavailable(request)
    except LookupError as exc:
        return problem(404, "No such checkpoint", str(exc), instance=request.url.path,
                       type_="https://pantau.id/problems/no-checkpoint")
    if not answer["entries"] and not answer["pending"]:
        return problem(404, "Case not found", f"No logged entries for {receipt}.",
                       instance=request.url.path, type_="https://pantau.id/problems/unknown-case")
    return _json(answer, SHORT if tree_size is None or answer["pending"] else IMMUTABLE)
