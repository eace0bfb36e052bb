"""Which Elasticsearch failures mean "the cluster is away or refusing writes for now" (transient)
— pure functions, no I/O.

Transient (the batch is held, never dead-lettered): the cluster cannot be reached or timed out
(``ConnectionError``, ``ConnectionTimeout``); it answers 408, 429 (rejected execution, circuit
breaker, the flood-stage disk watermark), 502, 503 or 504; a ``cluster_block_exception`` (the
disk watermark's read-only block, a write block set by an operator); the index is closed or its
primary shard is not available. This holds for the whole bulk request and for one item of it.
A ``SearchUnavailable`` raised by the adapter itself (a multi-get with unreadable documents)
counts as transient too.

Not transient (the message's own fault, dead-lettered): mapping and parse errors
(``document_parsing_exception``, ``mapper_parsing_exception``, ``illegal_argument_exception``,
``strict_dynamic_mapping_exception`` …) and anything else answered 4xx. A version conflict is not
an error at all (the index is newer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elasticsearch import ApiError, ConnectionError, ConnectionTimeout

from pantau_platform.errors import causes
from pantau_publishing.service.ports import SearchUnavailable

TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})
TRANSIENT_TYPES = frozenset({
    "cluster_block_exception",  # disk watermark (read_only_allow_delete), write blocks
    "index_closed_exception",
    "es_rejected_execution_exception",
    "circuit_breaking_exception",
    "unavailable_shards_exception",
    "no_shard_available_action_exception",
    "primary_missing_action_exception",
    "node_not_connected_exception",
    "node_disconnected_exception",
    "node_closed_exception",
    "master_not_discovered_exception",
    "cluster_manager_not_discovered_exception",
    "not_master_exception",
    "process_cluster_event_timeout_exception",
    "receive_timeout_transport_exception",
    "connect_transport_exception",
    "timeout_exception",
    "shard_not_in_primary_mode_exception",
    "retry_on_primary_exception",
    "retry_on_replica_exception",
})


def item_transient(status: int | None, error: Mapping[str, Any] | None) -> bool:
    """Is one bulk item's failure transient? ``status`` and ``error`` as the bulk answer's
    ``items[i].index`` carries them (``error``: ``{"type", "reason", ...}``)."""
    if status in TRANSIENT_STATUSES:
        return True
    kind = str((error or {}).get("type") or "")
    if kind in TRANSIENT_TYPES:
        return True
    caused = (error or {}).get("caused_by")
    return isinstance(caused, Mapping) and str(caused.get("type") or "") in TRANSIENT_TYPES


def error_type(exc: ApiError) -> str:
    """The Elasticsearch error type of an API error (``cluster_block_exception`` …)."""
    body = exc.body
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("type"):
            return str(error["type"])
        if isinstance(error, str):
            return error
    return str(exc.message or "")


def is_transient(exc: BaseException) -> bool:
    """True if ``exc`` (raised by a request as a whole, or raised ``from`` such an error) means
    the cluster is away or refuses writes for now; see the module docstring."""
    for error in causes(exc):
        if isinstance(error, (ConnectionError, ConnectionTimeout, SearchUnavailable)):
            return True
        if isinstance(error, ApiError):
            return (error.meta.status in TRANSIENT_STATUSES
                    or error_type(error) in TRANSIENT_TYPES)
    return False


def unavailable(exc: BaseException) -> str | None:
    """``"elasticsearch"`` for a transient failure, else None."""
    return "elasticsearch" if is_transient(exc) else None
