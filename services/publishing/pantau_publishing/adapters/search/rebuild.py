"""Rebuild the cases and changes indices from a source of public records, then swap both aliases
— no downtime.

1. put the templates; create ``<alias>-<now>`` for each chosen target (``cases``: one document
   per case; ``changes``: one per public timeline entry, what the feeds read) without the alias;
2. fill them from ``records`` in one pass (bulk, external versions as the indexer writes them:
   the case's revision for a case, the entry's seq for a change) —
   readers and the indexer still use the old indices. During the fill the new indices have
   ``refresh_interval: -1`` and ``number_of_replicas: 0`` (nobody reads them yet: no refresh, no
   replica copying per bulk); their own settings are restored, and they are refreshed, before
   the swap. Bulks of ``batch`` actions are sent ``concurrency`` at a time, so Elasticsearch
   indexes one while the next is built;
3. move every chosen alias to its new index in ONE ``_aliases`` call (search and feeds flip at
   the same instant; a concrete index squatting on an alias's name — auto-created by a write while
   the alias was lost — is removed in that same call, after its cases were copied over);
4. catch up on what the indexer wrote meanwhile, then delete the old indices.

An Elasticsearch outage during the fill or the catch-up (unreachable, 429/503, a closed or
blocked index) is waited out: the same bulk is retried with back-off (0.5 s doubling to 15 s) for
up to ``patience`` seconds (default 10 minutes) before the rebuild gives up as before. Re-sending
a bulk is harmless: external versions turn what was already written into version conflicts.

Catch-up *derives* documents from case documents instead of copying raw ones: every change
document is a function of its case's timeline (``domain.record.change_documents``), so the old
cases index (or, when only ``changes`` is rebuilt, the live cases alias) is the complete source.
Each case is re-validated and re-redacted (``clean_case``) and written with the current code and
mapping; external versions make only newer revisions (and new timeline entries) land. When the
cases index was rebuilt, only the cases whose revision in the old index is newer than in the new
one (or missing there) are read and re-written (``_derive``'s ``newer_than``): the catch-up
costs what changed during the rebuild, not a second pass over every case. Orphaned
change documents (no case) are dropped. As with any alias swap, a bulk request already routed to
an old index while the catch-up scan runs can still miss it — the next revision of that case, or
another rebuild, repairs it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from elasticsearch import Elasticsearch, NotFoundError

from pantau_publishing.adapters.search.bootstrap import alias_indices, put_templates
from pantau_publishing.adapters.search.client import Aliases, new_index_name
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.domain.record import clean_case
from pantau_publishing.service.indexing import index_actions
from pantau_publishing.service.ports import BulkItemResult, IndexAction, SearchUnavailable

log = logging.getLogger(__name__)
Target = Literal["cases", "changes"]
TARGETS: tuple[Target, ...] = ("cases", "changes")


@dataclass(frozen=True)
class Swap:
    """What happened to one alias: its new index, the indices it left (now deleted), how many
    documents the fill wrote, how many the catch-up added and how many catch-up writes failed."""

    target: Target
    alias: str
    new_index: str
    old_indices: tuple[str, ...]
    documents: int
    caught_up: int
    failed: int = 0


@dataclass(frozen=True)
class RebuildReport:
    indexed: int  # records written (each into every chosen index)
    skipped: int  # invalid records, reported and never published
    swaps: tuple[Swap, ...]

    def swap(self, target: Target) -> Swap:
        return next(s for s in self.swaps if s.target == target)


class _DirectIndex(EsSearchIndex):
    """Writes each target into one concrete (new) index instead of through the alias."""

    def __init__(self, es: Elasticsearch, aliases: Aliases,
                 indices: Mapping[Target, str]) -> None:
        super().__init__(es, aliases)
        self._indices = dict(indices)

    def _alias(self, action: IndexAction) -> str:
        return self._indices[action.target]


def alias_of(aliases: Aliases, target: Target) -> str:
    return aliases.cases if target == "cases" else aliases.changes


DEFAULT_PATIENCE = 600.0
DEFAULT_BATCH = 2000  # actions per bulk request: ~2 MB of case and change documents


def bulk_patiently(writer: EsSearchIndex, actions: Sequence[IndexAction], *,
                   patience: float = DEFAULT_PATIENCE,
                   sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic) -> list[BulkItemResult]:
    """``writer.bulk(actions)``, retried with back-off while Elasticsearch cannot take it (the
    whole request failed transiently, or an item did); gives up with ``SearchUnavailable``
    after ``patience`` seconds. Other item errors are returned as they are."""
    deadline = clock() + patience
    pause = 0.5
    attempts = 0
    while True:
        attempts += 1
        try:
            results = writer.bulk(actions)
        except SearchUnavailable as exc:
            problem = exc.detail
        else:
            transient = [r for r in results if not r.ok and r.transient]
            if not transient:
                if attempts > 1:
                    log.warning("Elasticsearch took the bulk again after %d attempts", attempts)
                return results
            problem = f"{len(transient)} item(s): {transient[0].error}"
        if clock() + pause > deadline:
            raise SearchUnavailable("elasticsearch", f"gave up after {attempts} attempts: "
                                    f"{problem}"[:500])
        if attempts == 1 or attempts % 10 == 0:
            log.warning("Elasticsearch cannot take the bulk now (%s); retrying for up to %.0f s",
                        problem[:300], max(0.0, deadline - clock()))
        sleep(pause)
        pause = min(pause * 2, 15.0)


def rebuild(es: Elasticsearch, aliases: Aliases,
            records: Iterable[Mapping[str, Any] | Planned], *,
            targets: Sequence[Target] = TARGETS, batch: int = DEFAULT_BATCH,
            progress: Callable[[int], None] | None = None,
            patience: float = DEFAULT_PATIENCE, concurrency: int = 2) -> RebuildReport:
    """Fill fresh indices for ``targets`` from ``records`` and swap their aliases atomically.

    ``records``: public records (dicts), or ``Planned`` ones (planned for these ``targets``).
    Raises (and deletes the half-built new indices, leaving the aliases untouched) when a bulk
    write of the fill or the alias swap fails; invalid records are skipped and counted, never
    published. Catch-up write failures after the swap are logged and counted in the report.
    """
    chosen: tuple[Target, ...] = tuple(t for t in TARGETS if t in targets)
    if not chosen or len(chosen) != len(set(targets)):
        raise ValueError(f"targets must be a non-empty subset of {TARGETS}, not {targets!r}")
    put_templates(es, aliases)
    new = {t: new_index_name(alias_of(aliases, t)) for t in chosen}
    for index in new.values():
        es.indices.create(index=index)
    writer = _DirectIndex(es, aliases, new)
    try:
        saved = _loading(es, list(new.values()))
        indexed, skipped, documents = _fill(writer, records, chosen, batch, progress, patience,
                                            concurrency)
        _restore(es, saved)
        es.indices.refresh(index=",".join(new.values()))
        caught_up = dict.fromkeys(chosen, 0)
        failed = dict.fromkeys(chosen, 0)
        strays = [t for t in chosen if _is_concrete_index(es, alias_of(aliases, t))]
        if "cases" in strays:  # its cases must be copied before the swap deletes it
            _add(caught_up, failed, _derive(es, aliases.cases, writer, chosen, patience))
        old = {t: alias_indices(es, alias_of(aliases, t)) for t in chosen}
        actions: list[dict[str, Any]] = []
        for target in chosen:
            alias = alias_of(aliases, target)
            if target in strays:
                actions.append({"remove_index": {"index": alias}})
            actions.append({"add": {"index": new[target], "alias": alias}})
            actions += [{"remove": {"index": index, "alias": alias}} for index in old[target]]
        es.indices.update_aliases(actions=actions)
    except BaseException:  # not swapped: the old indices keep serving; drop the new ones
        if not _swapped(es, aliases, new):  # (a timed-out swap may still have happened)
            es.indices.delete(index=",".join(new.values()), ignore_unavailable=True)
        raise
    # what the indexer wrote meanwhile: derived from the case documents it wrote (see module doc)
    sources = old["cases"] if "cases" in chosen else [aliases.cases]
    for source in sources:
        _add(caught_up, failed, _derive(es, source, writer, chosen, patience,
                                        newer_than=new.get("cases")))
    for target in chosen:
        for index in old[target]:
            es.indices.delete(index=index, ignore_unavailable=True)
    swaps = tuple(Swap(t, alias_of(aliases, t), new[t], tuple(old[t]), documents[t],
                       caught_up[t], failed[t]) for t in chosen)
    for swap in swaps:
        log.info("rebuilt %s → %s: %d documents, %d caught up (%d failed); removed %s",
                 swap.alias, swap.new_index, swap.documents, swap.caught_up, swap.failed,
                 list(swap.old_indices))
    return RebuildReport(indexed, skipped, swaps)


LOADING = {"refresh_interval": "-1", "number_of_replicas": 0}


def _loading(es: Elasticsearch, indices: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Put the new indices in bulk-load mode; returns their own settings (from the templates)
    for ``_restore``. A setting the index did not set is restored as null (its default)."""
    found = es.indices.get_settings(index=",".join(indices), name=[
        f"index.{key}" for key in LOADING])
    saved = {index: {key: found.get(index, {}).get("settings", {}).get("index", {}).get(key)
                     for key in LOADING} for index in indices}
    es.indices.put_settings(index=",".join(indices), settings={"index": dict(LOADING)})
    return saved


def _restore(es: Elasticsearch, saved: Mapping[str, Mapping[str, Any]]) -> None:
    for index, settings in saved.items():
        es.indices.put_settings(index=index, settings={"index": dict(settings)})


@dataclass(frozen=True)
class Planned:
    """A record already turned into its index actions by ``plan`` — in another process, for
    one (``pantau_tools.snapshot``); ``actions`` None: an invalid record, skipped."""

    actions: tuple[IndexAction, ...] | None


def plan(record: Mapping[str, Any], targets: Sequence[Target]) -> Planned:
    """Publishing's allowlist builder (``clean_case``: validated, redacted again) and the
    documents of each chosen index; an invalid record is reported and never published."""
    try:
        case = clean_case(dict(record))
    except ValueError as exc:
        log.warning("skipping an invalid public record: %s", exc)
        return Planned(None)
    return Planned(tuple(index_actions(case, targets)))


def _fill(writer: EsSearchIndex, records: Iterable[Mapping[str, Any] | Planned],
          targets: Sequence[Target], batch: int, progress: Callable[[int], None] | None,
          patience: float = DEFAULT_PATIENCE,
          concurrency: int = 2) -> tuple[int, int, dict[Target, int]]:
    """Bulk-write every valid record's documents; up to ``concurrency`` bulks in flight (a
    pool of threads — green ones when eventlet has patched the process). Raises on the first
    bulk with a failed item (after its retries); progress counts records as their bulk lands."""
    indexed = skipped = 0
    documents = dict.fromkeys(targets, 0)
    pending: list[IndexAction] = []
    in_flight: deque[tuple[Future[list[BulkItemResult]], list[IndexAction], int]] = deque()
    cases = 0

    def landed() -> None:
        future, actions, count = in_flight.popleft()
        failures = [r.error for r in future.result() if not r.ok]
        if failures:
            raise RuntimeError(f"rebuild bulk failed: {failures[:3]}")
        for action in actions:
            documents[action.target] += 1
        if progress:
            progress(count)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        try:
            def flush() -> None:
                nonlocal pending, cases
                in_flight.append((pool.submit(bulk_patiently, writer, pending,
                                              patience=patience), pending, cases))
                pending, cases = [], 0
                while len(in_flight) >= max(1, concurrency):
                    landed()

            for record in records:
                planned = record if isinstance(record, Planned) else plan(record, targets)
                if planned.actions is None:
                    skipped += 1
                    continue
                pending.extend(planned.actions)
                indexed += 1
                cases += 1
                if len(pending) >= batch:
                    flush()
            if pending:
                flush()
            while in_flight:
                landed()
        finally:
            for future, _actions, _count in in_flight:  # a failure: stop what has not started
                future.cancel()
    return indexed, skipped, documents


def _derive(es: Elasticsearch, source: str, writer: EsSearchIndex, targets: Sequence[Target],
            patience: float = DEFAULT_PATIENCE, newer_than: str | None = None,
            ) -> tuple[dict[Target, int], dict[Target, int]]:
    """Re-write every case document of ``source`` (an index or alias) and its change documents
    into the new indices. Older or equal versions conflict and are ignored, so only writes newer
    than the fill land (a newer revision of a case, the timeline entries it added). Returns
    (written, failed) per target.

    ``newer_than`` (the new cases index): only the cases whose revision there is older, or
    missing, are fetched and re-written — found by merging both indices' (receipt, revision)
    doc values in receipt order, so a million-case catch-up reads two small columns instead of
    re-planning every case (the others would only be version conflicts)."""
    written = dict.fromkeys(targets, 0)
    failed = dict.fromkeys(targets, 0)
    chunk: list[IndexAction] = []

    def flush() -> None:
        for action, result in zip(chunk, bulk_patiently(writer, chunk, patience=patience),
                                  strict=True):
            _count(written, failed, action, result)
        chunk.clear()

    documents = _scan(es, source) if newer_than is None else _fetch(
        es, source, _newer(_revisions(es, source), _revisions(es, newer_than)))
    for document in documents:
        try:
            case = clean_case(document)
        except ValueError as exc:  # not a valid public record under the current model
            log.warning("catch-up skips a document of %s: %s", source, exc)
            continue
        chunk.extend(index_actions(case, targets))
        if len(chunk) >= 500:
            flush()
    if chunk:
        flush()
    return written, failed


def _revisions(es: Elasticsearch, index: str, page_size: int = 10_000
               ) -> Iterator[tuple[str, int]]:
    """``(receipt_number, revision)`` of every case document of ``index``, in receipt order,
    from doc values (no ``_source``), through a point in time."""
    es.indices.refresh(index=index)
    pit = es.open_point_in_time(index=index, keep_alive="2m")["id"]
    body = {"_source": False, "docvalue_fields": ["receipt_number", "revision"],
            "sort": [{"receipt_number": "asc"}]}
    for hit in _pit_hits(es, pit, body, page_size):
        fields = hit.get("fields", {})
        if "receipt_number" in fields and "revision" in fields:
            yield str(fields["receipt_number"][0]), int(fields["revision"][0])


def _pit_hits(es: Elasticsearch, pit: str, body: Mapping[str, Any],
              page_size: int) -> Iterator[dict[str, Any]]:
    """Every hit of ``body`` (which must sort) through the point in time ``pit``, page by page
    with ``search_after``; the point in time is closed at the end (or when the caller stops)."""
    try:
        after: list[Any] | None = None
        while True:
            page: dict[str, Any] = {**body, "pit": {"id": pit, "keep_alive": "2m"},
                                    "size": page_size}
            if after is not None:
                page["search_after"] = after
            answer = es.search(body=page)
            pit = answer.get("pit_id", pit)
            hits = answer["hits"]["hits"]
            yield from hits
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]
    finally:
        try:
            es.close_point_in_time(id=pit)
        except NotFoundError:
            pass


def _newer(old: Iterable[tuple[str, int]], new: Iterable[tuple[str, int]]) -> Iterator[str]:
    """Receipts of ``old`` whose revision ``new`` lacks (missing or older); both in receipt
    order (receipts are ASCII: Elasticsearch's byte order is Python's)."""
    fresh = iter(new)
    current = next(fresh, None)
    for receipt, revision in old:
        while current is not None and current[0] < receipt:
            current = next(fresh, None)
        if current is None or current[0] != receipt or current[1] < revision:
            yield receipt


def _fetch(es: Elasticsearch, index: str, receipts: Iterable[str], chunk: int = 500
           ) -> Iterator[dict[str, Any]]:
    """The case documents of ``receipts`` in ``index`` (real-time GETs, 500 at a time)."""
    batch: list[str] = []
    for receipt in [*receipts, None]:
        if receipt is not None:
            batch.append(receipt)
        if batch and (receipt is None or len(batch) >= chunk):
            for doc in es.mget(index=index, ids=batch)["docs"]:
                if doc.get("found"):
                    yield dict(doc["_source"])
            batch = []


def _count(written: dict[Target, int], failed: dict[Target, int], action: IndexAction,
           result: BulkItemResult) -> None:
    if not result.ok:
        failed[action.target] += 1
        log.warning("catch-up write %s/%s failed: %s", action.target, action.doc_id,
                    result.error)
    elif not result.conflict:
        written[action.target] += 1


def _add(caught_up: dict[Target, int], failed: dict[Target, int],
         counts: tuple[dict[Target, int], dict[Target, int]]) -> None:
    for target, count in counts[0].items():
        caught_up[target] += count
    for target, count in counts[1].items():
        failed[target] += count


def scan(es: Elasticsearch, index: str, page_size: int = 500,
         fields: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every document's ``_source`` of ``index`` (an index or alias), as a consistent snapshot
    (see ``_scan``)."""
    return _scan(es, index, page_size, fields)


def _scan(es: Elasticsearch, index: str, page_size: int = 500,
          fields: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every document of ``index`` through a point in time sorted by ``_shard_doc``: a
    consistent snapshot that needs no particular mapping (a squatting, dynamically mapped index
    has no sortable ``receipt_number``). ``fields``: only these ``_source`` fields."""
    try:
        es.indices.refresh(index=index)
        pit = es.open_point_in_time(index=index, keep_alive="2m")["id"]
    except NotFoundError:
        return
    body: dict[str, Any] = {"sort": [{"_shard_doc": "asc"}]}
    if fields is not None:
        body["_source"] = list(fields)
    for hit in _pit_hits(es, pit, body, page_size):
        yield dict(hit["_source"])


def _swapped(es: Elasticsearch, aliases: Aliases, new: Mapping[Target, str]) -> bool:
    return any(index in alias_indices(es, alias_of(aliases, target))
               for target, index in new.items())


def _is_concrete_index(es: Elasticsearch, name: str) -> bool:
    """True when ``name`` is an index itself rather than an alias (or nothing)."""
    try:
        found = es.indices.get(index=name, ignore_unavailable=True)
    except NotFoundError:
        return False
    return name in found
