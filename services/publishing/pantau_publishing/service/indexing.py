"""Indexing a batch of ``case.updated`` events: decode, clean, one bulk write, settle each message.

Contract: ``IndexBatch.handle`` returns only when every message of the batch is either in the
index (or superseded by a newer revision there) or refused — and it returns the refused ones as
``IndexReport.failures``, ``{position in the batch: reason}`` (the settlement convention of every
batched use case: the caller, ``pantau_nameko.batching``, dead-letters exactly those, then acks
the whole batch). If the bulk request as a whole fails it raises, and the caller requeues.

Poison and transient failures: a message that breaks the contract, or whose document the index
refuses (a mapping or parse error), is a failure with its reason. When the index cannot take
writes for now — the whole request failed transiently (``SearchUnavailable`` from the port), or
any item failed transiently (429 / rejected execution, 503, a closed or blocked index) —
``handle`` raises ``SearchUnavailable`` and reports no failure: the whole batch is held and
retried (documents already written come back as version conflicts, i.e. superseded).

Timeline entries already written are not sent again when the indexer remembers them
(``service.written_entries``: per case, the concrete index and the highest ``seq`` written). When
an answer shows the alias now points at another index (a rebuild swapped it), that case's whole
timeline is written again in a second bulk request before the batch is settled.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from pantau_contracts.envelope import ContractViolation, FieldProblem
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.payloads.tracking import CaseUpdatedV1, CaseUpdatedV2
from pantau_contracts.registry import validate_event
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.service.ports import (
    BulkItemResult,
    IndexAction,
    IndexTarget,
    ReceivedMessage,
    SearchIndex,
    SearchUnavailable,
)
from pantau_publishing.service.written_entries import WrittenEntries, first_unsent

log = logging.getLogger(__name__)
ACCEPTED_TYPES = frozenset({"case.updated", "case.overdue"})
INFORMATIONAL_TYPES = frozenset({"case.overdue"})
"""Valid events that need no index write: tracking also sends ``case.updated`` carrying the
record with ``overdue: true``, which is what the public side shows."""


@dataclass(frozen=True)
class IndexReport:
    """What one batch came to: counts, and the refused messages (``failures``)."""

    indexed: int = 0  # messages whose documents were written
    ignored: int = 0  # valid events with nothing to index (case.overdue)
    superseded: int = 0  # messages older than (or equal to) what the index already has
    # the refused messages by position in the batch, with their reason (to be dead-lettered)
    failures: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def dead_lettered(self) -> int:
        return len(self.failures)


def case_for(message: ReceivedMessage) -> PublicCaseV2 | None:
    """The clean public record a message carries (None: an event with nothing to index), or
    ``ContractViolation`` explaining why there is none.

    ``case.updated`` version 2 carries a ``PublicCaseV2``; version 1 (``dataschema`` .../v1.json,
    still in queues from before the upgrade) a ``PublicCaseV1``, which ``clean_case`` upgrades.
    """
    event = validate_event(message.body, allowed_types=ACCEPTED_TYPES)
    if event.type in INFORMATIONAL_TYPES:
        return None
    payload = event.payload
    assert isinstance(payload, CaseUpdatedV1 | CaseUpdatedV2)
    try:
        case = clean_case(payload.case)
    except ValidationError as exc:  # pragma: no cover - validate_event already checked the model
        raise ContractViolation([FieldProblem("data.case", str(exc), "a PublicCaseV2")]) from exc
    if event.sequence is not None and event.sequence != case.revision:
        raise ContractViolation([FieldProblem(
            "sequence", f"{event.sequence} differs from data.case.revision {case.revision}",
            "the case's revision")], event_id=event.id, source=event.source, event_type=event.type)
    return case


def index_actions(case: PublicCaseV2, targets: Collection[IndexTarget] = ("cases", "changes"),
                  after: int = 0) -> list[IndexAction]:
    """The documents of one clean case, each with its external version.

    The case document is versioned by the case's ``revision``: an older revision never
    overwrites a newer one. A change document is one timeline entry, and timeline entries are
    append-only, so it is versioned by the entry's ``seq``: once written it never changes, and a
    later update of the case repeats it only as a cheap version conflict instead of rewriting
    every earlier entry of the feed. Used by the indexer and by the rebuild alike. ``after``:
    only the entries above that ``seq`` (those the indexer does not remember writing).
    """
    actions: list[IndexAction] = []
    if "cases" in targets:
        actions.append(IndexAction("cases", case.receipt_number, case.revision,
                                   case_document(case)))
    if "changes" in targets:
        actions.extend(IndexAction("changes", doc_id, int(document["seq"]), document)
                       for doc_id, document in change_documents(case, after))
    return actions


@dataclass(frozen=True)
class _Plan:
    """One message's writes: its case (None: nothing to index), and what the memory knew of the
    case when the writes were planned."""

    position: int
    case: PublicCaseV2 | None
    actions: list[IndexAction]
    known: tuple[str, int] | None = None


class IndexBatch:
    """The indexer's use case. Port: the search index."""

    def __init__(self, index: SearchIndex, written: WrittenEntries | None = None) -> None:
        self._index = index
        self._written = written  # None: every message writes its whole timeline

    def _plan(self, position: int, message: ReceivedMessage) -> _Plan:
        case = case_for(message)
        if case is None:
            return _Plan(position, None, [])
        known = self._written.get(case.receipt_number) if self._written is not None else None
        first = first_unsent(known, [entry.seq for entry in case.timeline])
        return _Plan(position, case, index_actions(case, after=first), known)

    def handle(self, messages: Sequence[ReceivedMessage]) -> IndexReport:
        planned: list[_Plan] = []
        failures: dict[int, dict[str, Any]] = {}
        for position, message in enumerate(messages):
            try:
                planned.append(self._plan(position, message))
            except ContractViolation as exc:
                failures[position] = {
                    "stage": "publishing", "reason": "contract-violation",
                    "detail": str(exc), "errors": [p.as_dict() for p in exc.problems]}
        kept = newest_actions(plan.actions for plan in planned)
        flat = list(kept.values())
        answers = self._write(flat)
        refused = {_key(a) for a in flat if not answers[id(a)].ok}
        if refused:
            # Rare: the index refused a document's newest version for good. Its older versions
            # in this batch are then written as one by one would have (in batch order), so the
            # refusal of one revision never hides the earlier ones.
            answers.update(self._write([a for plan in planned for a in plan.actions
                                        if _key(a) in refused and id(a) not in answers]))
        repaired = ({} if self._written is None
                    else self._remember_and_repair(planned, answers))
        indexed = superseded = ignored = 0
        for plan in planned:
            position, actions = plan.position, plan.actions
            if plan.case is None:
                ignored += 1
                continue
            # this message's own writes (an action a newer one in the batch replaced is not)
            mine = [answers[id(a)] for a in actions if id(a) in answers]
            errors = [r.error for r in mine if not r.ok] + repaired.get(position, [])
            if errors:
                failures[position] = {
                    "stage": "publishing", "reason": "index-error",
                    "detail": "; ".join(e or "unknown error" for e in errors)[:2000]}
            elif id(actions[0]) not in answers or answers[id(actions[0])].conflict:
                superseded += 1  # a newer revision: in this batch, or already in the index
            else:
                indexed += 1
        outcome = IndexReport(indexed, ignored, superseded, dict(sorted(failures.items())))
        log.info("batch of %d: %d indexed, %d ignored, %d superseded, %d refused (%d writes)",
                 len(messages), indexed, ignored, superseded, len(failures), len(answers))
        return outcome

    def _remember_and_repair(self, planned: Sequence[_Plan],
                             answers: dict[int, BulkItemResult]) -> dict[int, list[str | None]]:
        """Tell the memory what each case now has in the index; write a case's whole timeline
        again when its entries landed in another index than the one remembered (the alias was
        swapped). Returns the repair's refusals by position (the case's newest message), which
        are that message's failures, as they were when every update sent every entry."""
        assert self._written is not None
        newest: dict[str, _Plan] = {}
        results: dict[str, list[BulkItemResult]] = {}
        for plan in planned:
            if plan.case is None:
                continue
            receipt = plan.case.receipt_number
            if receipt not in newest or plan.case.revision > _revision(newest[receipt]):
                newest[receipt] = plan
            results.setdefault(receipt, []).extend(
                answers[id(a)] for a in plan.actions if a.target == "changes" and id(a) in answers)
        moved = [plan for receipt, plan in newest.items()
                 if self._settle(plan, results[receipt], whole=False)]
        if not moved:
            return {}
        log.info("the changes index behind the alias changed: writing the whole timeline of "
                 "%d case(s) again", len(moved))
        whole: tuple[IndexTarget, ...] = ("changes",)
        actions = {plan.position: index_actions(_case(plan), whole) for plan in moved}
        written = self._write([a for group in actions.values() for a in group])
        refusals: dict[int, list[str | None]] = {}
        for plan in moved:
            mine = [written[id(a)] for a in actions[plan.position]]
            self._settle(plan, mine, whole=True)
            if any(not r.ok for r in mine):
                refusals[plan.position] = [r.error for r in mine if not r.ok]
        return refusals

    def _settle(self, plan: _Plan, results: Sequence[BulkItemResult], *, whole: bool) -> bool:
        assert self._written is not None
        case = _case(plan)
        return self._written.settle(case.receipt_number, plan.known,
                                    max((e.seq for e in case.timeline), default=0),
                                    [(r.index, r.ok) for r in results], whole=whole)

    def _write(self, actions: list[IndexAction]) -> dict[int, BulkItemResult]:
        """One bulk request; each action's result by ``id(action)``. Any item the index cannot
        take for now → ``SearchUnavailable`` (the caller holds the batch)."""
        results = self._index.bulk(actions) if actions else []
        transient = [r for r in results if not r.ok and r.transient]
        if transient:
            raise SearchUnavailable("elasticsearch", f"{len(transient)} of {len(results)} "
                                    f"document(s) not taken for now: {transient[0].error}"[:500])
        return {id(action): result for action, result in zip(actions, results, strict=True)}


def _case(plan: _Plan) -> PublicCaseV2:
    assert plan.case is not None
    return plan.case


def _revision(plan: _Plan) -> int:
    return _case(plan).revision


def _key(action: IndexAction) -> tuple[str, str]:
    return action.target, action.doc_id


def newest_actions(
        batches: Iterable[Sequence[IndexAction]]) -> dict[tuple[str, str], IndexAction]:
    """One action per document: the highest version (the first of equals), in order of first
    appearance. A case updated four times in one batch is written once, not four times, and its
    timeline entries once each instead of 1 + 2 + 3 + 4 times: every older write would only be
    a version conflict in the index (the same result, at the cost of a bulk item each)."""
    kept: dict[tuple[str, str], IndexAction] = {}
    for actions in batches:
        for action in actions:
            key = _key(action)
            if key not in kept or action.version > kept[key].version:
                kept[key] = action
    return kept
