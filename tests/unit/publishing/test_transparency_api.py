"""The transparency endpoints over a hand-written fake log: bodies passed through, refusals as
problem+json (400 bad sizes, 404 unknown receipt / no checkpoint, 503 log unreadable), caching."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.fakes import FakeReader

CHECKPOINT = {"origin": "test/log", "tree_size": 3, "root_hash": "ab" * 32,
              "timestamp": "2026-12-01T00:00:00.000000Z", "key_id": "0" * 16,
              "signature": "c2ln", "note": "test/log\n3\nq80=\n2026-12-01T00:00:00.000000Z\n"}


class FakeLog:
    """The ``TransparencyLog`` port in memory; ``broken`` makes every read fail."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.asked: list[tuple[str, Any]] = []

    def _check(self) -> None:
        if self.broken:
            raise OSError("database is away")

    def keys(self) -> dict[str, list[dict[str, Any]]]:
        self._check()
        return {"keys": [{"key_id": "0" * 16, "algorithm": "Ed25519", "public_key": "AA==",
                          "current": True}]}

    def latest_checkpoint(self) -> dict[str, Any] | None:
        self._check()
        return CHECKPOINT

    def checkpoint(self, tree_size: int) -> dict[str, Any] | None:
        return CHECKPOINT if tree_size == 3 else None

    def checkpoints(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        self.asked.append(("checkpoints", (after, limit)))
        return [CHECKPOINT] if after < 3 else []

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        if not 0 <= first <= second <= 3:
            raise ValueError(f"no proof from {first} to {second}")
        return {"from": first, "to": second, "proof": ["cd" * 32]}

    def leaves(self, start: int, end: int) -> dict[str, Any]:
        self._check()
        if not 0 <= start <= end <= 3:
            raise ValueError(f"leaves need 0 <= start <= end <= 3; got {start}, {end}")
        end = min(end, start + 2)  # pages of two here (1,000 in the real log)
        return {"start": start, "end": end, "leaves": [
            {"leaf_index": i, "leaf": f'{{"leaf":{i}}}'} for i in range(start, end)]}

    def receipt_proof(self, receipt_number: str,
                      tree_size: int | None = None) -> dict[str, Any]:
        self._check()
        if tree_size not in (None, 3):
            raise LookupError(f"no checkpoint of tree size {tree_size}")
        if receipt_number != "BDG-PBG-2026-000001":
            return {"receipt_number": receipt_number, "checkpoint": CHECKPOINT, "entries": [],
                    "pending": []}
        return {"receipt_number": receipt_number, "checkpoint": CHECKPOINT, "pending": [2],
                "entries": [{"seq": 1, "leaf_index": 0, "leaf": "{}", "leaf_hash": "ef" * 32,
                             "audit_path": []}]}


def client(log: FakeLog | None) -> TestClient:
    app = create_app(PublishingSettings(), records=PublicRecords(FakeReader()), log=log)
    return TestClient(app)


@pytest.fixture
def api() -> TestClient:
    return client(FakeLog())


def test_keys_and_checkpoints_pass_through(api: TestClient) -> None:
    assert api.get("/api/v1/transparency/key").json()["keys"][0]["algorithm"] == "Ed25519"
    latest = api.get("/api/v1/transparency/checkpoints/latest")
    assert latest.json() == CHECKPOINT and "max-age" in latest.headers["cache-control"]
    listed = api.get("/api/v1/transparency/checkpoints", params={"after": 1}).json()
    assert listed == {"checkpoints": [CHECKPOINT]}


def test_consistency_proof_and_bad_sizes(api: TestClient) -> None:
    good = api.get("/api/v1/transparency/consistency", params={"from": 1, "to": 3})
    assert good.status_code == 200 and good.json()["proof"] == ["cd" * 32]
    assert "immutable" in good.headers["cache-control"]
    bad = api.get("/api/v1/transparency/consistency", params={"from": 3, "to": 9})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "from"


def test_case_proof_entries_pending_and_refusals(api: TestClient) -> None:
    answer = api.get("/api/v1/cases/bdg-pbg-2026-000001/proof")  # normalised like the case API
    assert answer.status_code == 200
    assert answer.json()["pending"] == [2] and answer.json()["entries"][0]["seq"] == 1
    assert api.get("/api/v1/cases/BDG-PBG-2026-999999/proof").status_code == 404
    assert api.get("/api/v1/cases/%3Cscript%3E/proof").status_code == 404
    missing = api.get("/api/v1/cases/BDG-PBG-2026-000001/proof", params={"tree_size": 7})
    assert missing.status_code == 404 and missing.json()["title"] == "No such checkpoint"


def test_leaves_in_pages_and_refusals(api: TestClient) -> None:
    answer = api.get("/api/v1/transparency/leaves", params={"start": 0, "end": 3})
    assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"]
    assert answer.json() == {"start": 0, "end": 2, "leaves": [
        {"leaf_index": 0, "leaf": '{"leaf":0}'}, {"leaf_index": 1, "leaf": '{"leaf":1}'}]}
    assert api.get("/api/v1/transparency/leaves",
                   params={"start": 2, "end": 3}).json()["leaves"][0]["leaf_index"] == 2
    for params in ({"start": 0, "end": 4}, {"start": 2, "end": 1}, {"start": -1, "end": 1},
                   {"start": 0}):
        bad = api.get("/api/v1/transparency/leaves", params=params)
        assert bad.status_code in (400, 422), params
        assert bad.headers["content-type"].startswith("application/problem+json"), params
    beyond = api.get("/api/v1/transparency/leaves", params={"start": 0, "end": 4})
    assert beyond.status_code == 400 and beyond.json()["errors"][0]["field"] == "end"
    assert client(FakeLog(broken=True)).get(
        "/api/v1/transparency/leaves", params={"start": 0, "end": 1}).status_code == 503


@pytest.mark.parametrize("log", [FakeLog(broken=True), None], ids=["unreadable", "absent"])
def test_an_unreadable_log_is_503_with_retry_after(log: FakeLog | None) -> None:
    answer = client(log).get("/api/v1/transparency/checkpoints/latest")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_sizes_beyond_a_bigint_are_refused_not_a_database_error(api: TestClient) -> None:
    huge = str(2**64)
    for path, params in (("/api/v1/transparency/checkpoints", {"after": huge}),
                         ("/api/v1/transparency/consistency", {"from": "1", "to": huge}),
                         ("/api/v1/cases/BDG-PBG-2026-000001/proof", {"tree_size": huge})):
        answer = api.get(path, params=params)
        assert answer.status_code == 422, path
        assert answer.headers["content-type"].startswith("application/problem+json")
