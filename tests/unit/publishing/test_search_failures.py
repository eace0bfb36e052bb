"""Which Elasticsearch failures hold a batch and which dead-letter a document — classified from
real ``elasticsearch`` / ``elastic_transport`` exception objects and bulk answers as the cluster
gives them; ``EsSearchIndex`` reporting them through the port."""

from __future__ import annotations

from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import (
    ApiError,
    BadRequestError,
    ConnectionError,
    ConnectionTimeout,
    NotFoundError,
    SerializationError,
)

from pantau_publishing.adapters.search.client import Aliases
from pantau_publishing.adapters.search.failures import (
    error_type,
    is_transient,
    item_transient,
    unavailable,
)
from pantau_publishing.adapters.search.store import EsSearchIndex
from pantau_publishing.service.ports import IndexAction, SearchUnavailable


def api_error(cls: type[ApiError], status: int, kind: str, reason: str = "") -> ApiError:
    """As the client raises it for an error answer (``message`` is the error type)."""
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(),
                           duration=0.01, node=NodeConfig("http", "127.0.0.1", 9200))
    body = {"error": {"type": kind, "reason": reason,
                      "root_cause": [{"type": kind, "reason": reason}]}, "status": status}
    return cls(kind, meta=meta, body=body)


TRANSIENT = [
    pytest.param(ConnectionError("Connection refused"), id="refused"),
    pytest.param(ConnectionTimeout("Connection timed out"), id="timeout"),
    pytest.param(api_error(ApiError, 429, "es_rejected_execution_exception",
                           "rejected execution of coordinating operation"), id="429"),
    pytest.param(api_error(ApiError, 429, "circuit_breaking_exception",
                           "[parent] Data too large"), id="circuit-breaker"),
    pytest.param(api_error(ApiError, 503, "unavailable_shards_exception",
                           "primary shard is not active"), id="503"),
    pytest.param(api_error(ApiError, 503, "master_not_discovered_exception"), id="no-master"),
    pytest.param(api_error(ApiError, 504, "gateway_timeout"), id="504"),
    pytest.param(api_error(ApiError, 408, "timeout"), id="408"),
    pytest.param(api_error(ApiError, 429, "cluster_block_exception",
                           "index [x] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded "
                           "flood-stage watermark, index has read-only-allow-delete block]"),
                 id="flood-stage-watermark"),
    pytest.param(api_error(ApiError, 403, "cluster_block_exception",
                           "index [x] blocked by: [FORBIDDEN/12/index read-only / allow "
                           "delete (api)]"), id="read-only-block"),
    pytest.param(api_error(BadRequestError, 400, "index_closed_exception", "closed"),
                 id="closed"),
]
POISON = [
    pytest.param(api_error(BadRequestError, 400, "document_parsing_exception",
                           "failed to parse field [opened_at] of type [date]"), id="parse"),
    pytest.param(api_error(BadRequestError, 400, "mapper_parsing_exception", "boom"),
                 id="mapping"),
    pytest.param(api_error(BadRequestError, 400, "illegal_argument_exception", "bad"),
                 id="illegal-argument"),
    pytest.param(api_error(NotFoundError, 404, "index_not_found_exception", "no such index"),
                 id="not-found"),
    pytest.param(api_error(ApiError, 413, "request_entity_too_large"), id="too-large"),
    pytest.param(SerializationError("Unable to serialize"), id="serialization"),
    pytest.param(ValueError("bad"), id="value"),
]


@pytest.mark.parametrize("exc", TRANSIENT)
def test_transient_failures_name_elasticsearch(exc: BaseException) -> None:
    assert is_transient(exc) and unavailable(exc) == "elasticsearch"


@pytest.mark.parametrize("exc", POISON)
def test_other_failures_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc) and unavailable(exc) is None


def test_error_type_and_a_cause_chain() -> None:
    closed = api_error(BadRequestError, 400, "index_closed_exception", "closed")
    assert error_type(closed) == "index_closed_exception"
    try:
        try:
            raise ConnectionError("refused")
        except ConnectionError as exc:
            raise RuntimeError("bulk failed") from exc
    except RuntimeError as outer:
        assert unavailable(outer) == "elasticsearch"


# Bulk items exactly as Elasticsearch 8 answers them (items[i]["index"]).
ITEMS = {
    "closed": (400, {"type": "index_closed_exception", "reason": "closed"}, True),
    "watermark": (429, {"type": "cluster_block_exception", "reason": "index [x] blocked by: "
                        "[TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, "
                        "index has read-only-allow-delete block]"}, True),
    "write-block": (403, {"type": "cluster_block_exception",
                          "reason": "index [x] blocked by: [FORBIDDEN/8/index write (api)];"},
                    True),
    "rejected": (429, {"type": "es_rejected_execution_exception",
                       "reason": "rejected execution of primary operation"}, True),
    "unavailable-shards": (503, {"type": "unavailable_shards_exception",
                                 "reason": "[x][0] primary shard is not active"}, True),
    "parse": (400, {"type": "document_parsing_exception",
                    "reason": "[1:6] object mapping for [a] tried to parse field [a] as object, "
                              "but found a concrete value"}, False),
    "mapping": (400, {"type": "mapper_parsing_exception", "reason": "failed to parse"}, False),
    "strict": (400, {"type": "strict_dynamic_mapping_exception",
                     "reason": "mapping set to strict"}, False),
    "caused-by": (500, {"type": "exception", "reason": "x",
                        "caused_by": {"type": "circuit_breaking_exception"}}, True),
}


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_bulk_item_classification(name: str) -> None:
    status, error, transient = ITEMS[name]
    assert item_transient(status, error) is transient


class FakeCluster:
    """Just enough of the Elasticsearch client for ``EsSearchIndex`` (``es.cluster`` is
    itself)."""

    def __init__(self) -> None:
        self.raise_on_bulk: BaseException | None = None
        self.items: list[dict[str, Any]] = []
        self.answer: dict[str, Any] | BaseException = {"status": "green", "timed_out": False}
        self.blocks: dict[str, Any] = {}
        self.cluster = self

    def bulk(self, **_kwargs: Any) -> dict[str, Any]:
        if self.raise_on_bulk is not None:
            raise self.raise_on_bulk
        return {"errors": True, "items": self.items}

    def health(self, **_kwargs: Any) -> dict[str, Any]:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    def state(self, **_kwargs: Any) -> dict[str, Any]:
        return {"blocks": self.blocks}


def index_with(es: FakeCluster) -> EsSearchIndex:
    return EsSearchIndex(es, Aliases("t-cases", "t-changes"))  # type: ignore[arg-type]


ACTION = IndexAction("cases", "BDG-1", 1, {"receipt_number": "BDG-1"})


def test_the_adapter_reports_a_whole_request_failure_as_search_unavailable() -> None:
    es = FakeCluster()
    es.raise_on_bulk = ConnectionError("Connection refused")
    with pytest.raises(SearchUnavailable) as caught:
        index_with(es).bulk([ACTION])
    assert caught.value.dependency == "elasticsearch" and "refused" in caught.value.detail
    es.raise_on_bulk = api_error(BadRequestError, 400, "illegal_argument_exception")
    with pytest.raises(BadRequestError):  # not transient: raised as it is (unknown)
        index_with(es).bulk([ACTION])


def test_the_adapter_marks_transient_items() -> None:
    es = FakeCluster()
    es.items = [{"index": {"_id": "a", "status": 400, "error": ITEMS["closed"][1]}},
                {"index": {"_id": "b", "status": 400, "error": ITEMS["parse"][1]}},
                {"index": {"_id": "c", "status": 409, "error": {
                    "type": "version_conflict_engine_exception", "reason": "newer"}}},
                {"index": {"_id": "d", "status": 201}}]
    results = index_with(es).bulk([ACTION] * 4)
    assert [(r.ok, r.transient, r.conflict) for r in results] == [
        (False, True, False), (False, False, False), (True, False, True), (True, False, False)]
    assert results[0].error == "index_closed_exception: closed"


def test_ping_needs_a_healthy_unblocked_index() -> None:
    es = FakeCluster()
    index = index_with(es)
    assert index.ping()
    es.blocks = {"indices": {"t-cases-1": {"4": {"description": "index closed",
                                                 "levels": ["read", "write"]}}}}
    assert not index.ping()
    es.blocks = {"global": {"12": {"levels": ["write"]}}}
    assert not index.ping()
    es.blocks = {"indices": {"t-cases-1": {"9": {"levels": ["metadata_write"]}}}}
    assert index.ping()
    es.answer = {"status": "red", "timed_out": False}
    assert not index.ping()
    es.answer = ConnectionError("Connection refused")
    assert not index.ping()
