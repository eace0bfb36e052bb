"""The case page checks its history against the transparency log on every view: "verified" only
when every public step rebuilds to the logged leaf under the latest checkpoint, "being recorded"
while steps are pending, a clear warning naming the steps that do not match, and "cannot be
checked now" when the log cannot be read. Over a hand-written fake log holding real leaves in a
real RFC 9162 tree (pantau_transparency.merkle)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.case_view import history_notice, step_list
from pantau_publishing.portal.transparency import check_history, public_leaf
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from pantau_transparency.merkle import MemoryTree, inclusion_proof, leaf_hash
from pantau_transparency.sql import NoCheckpoint
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader

RECEIPT = "BDG-PBG-2026-000001"
NOTE = "Izin terbit."
STAMP = "2026-03-20T08:00:00.000000Z"


class FakeLog:
    """The ``TransparencyLog`` port over an in-memory tree: ``log`` appends a leaf (text),
    ``sign`` makes the latest checkpoint; everything after it is pending. ``broken`` fails."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.tree = MemoryTree()
        self.leaves: list[tuple[str, int, str]] = []  # (receipt, seq, leaf)
        self.signed = 0
        self.queued: list[tuple[str, int]] = []
        self.forged_paths: set[int] = set()

    def log(self, receipt: str, seq: int, leaf: str) -> None:
        self.tree.append(leaf.encode("utf-8"))
        self.leaves.append((receipt, seq, leaf))

    def sign(self) -> None:
        self.signed = self.tree.size

    def receipt_proof(self, receipt_number: str,
                      tree_size: int | None = None) -> dict[str, Any]:
        if self.broken:
            raise OSError("database is away")
        if not self.signed:
            raise NoCheckpoint("no checkpoint yet")
        size = self.signed
        entries, pending = [], [s for r, s in self.queued if r == receipt_number]
        for index, (receipt, seq, leaf) in enumerate(self.leaves):
            if receipt != receipt_number:
                continue
            if index >= size:
                pending.append(seq)
                continue
            path = inclusion_proof(index, size, self.tree)
            if index in self.forged_paths:
                path = [bytes(32), *path[1:]] if path else [bytes(32)]
            entries.append({"seq": seq, "leaf_index": index, "leaf": leaf,
                            "leaf_hash": leaf_hash(leaf.encode()).hex(),
                            "audit_path": [h.hex() for h in path]})
        return {"receipt_number": receipt_number, "pending": pending, "entries": entries,
                "checkpoint": {"origin": "test/log", "tree_size": size,
                               "root_hash": self.tree.root(size).hex(), "timestamp": STAMP,
                               "key_id": "0" * 16, "signature": "c2ln", "note": "…"}}

    # the rest of the port, unused by the page
    def keys(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": []}

    def latest_checkpoint(self) -> dict[str, Any] | None:
        return None

    def checkpoint(self, tree_size: int) -> dict[str, Any] | None:
        return None

    def checkpoints(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return []

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        raise ValueError("unused")


def the_case(note: str = NOTE) -> PublicCaseV2:
    return clean_case(public_case(RECEIPT, revision=3, note=note, delays={3: 4}))


def honest_log(case: PublicCaseV2, signed: int | None = None, skip: int | None = None
               ) -> FakeLog:
    """Every step of ``case`` (but ``skip``) logged, other cases' leaves around it; the first
    ``signed`` steps (default all) under the checkpoint."""
    log = FakeLog()
    log.log("BDG-SLF-2026-000009", 1, '{"other":1}')
    for step in case.timeline:
        if signed is not None and step.seq == signed + 1:
            log.sign()
        if step.seq != skip:
            log.log(RECEIPT, step.seq, public_leaf(RECEIPT, step))
    log.log("BDG-SLF-2026-000009", 2, '{"other":2}')
    if signed is None:
        log.sign()
    return log


def page(case: PublicCaseV2, log: FakeLog | None, lang: str = "id") -> str:
    reader = FakeReader([case_document(case)], [doc for _id, doc in change_documents(case)])
    app = create_app(PublishingSettings(), PublicRecords(reader), log=log)
    answer = TestClient(app).get(f"/kasus/{RECEIPT}", params={"lang": lang})
    assert answer.status_code == 200
    return answer.text


def test_a_history_that_matches_the_log_is_verified_with_its_checkpoint() -> None:
    case = the_case()
    log = honest_log(case)
    check = check_history(log, case)
    assert (check.state, check.tree_size) == ("verified", 5)
    text = page(case, log)
    assert 'data-history="verified"' in text and "Riwayat terverifikasi" in text
    assert "checkpoint log berukuran 5" in text and "20 Maret 2026" in text
    assert f'href="/api/v1/cases/{RECEIPT}/proof"' in text
    assert "tidak cocok" not in text and 'id="history-warning"' not in text
    english = page(case, log, "en")
    assert "History verified" in english and "checkpoint of size 5" in english


def test_steps_not_yet_in_a_checkpoint_are_being_recorded() -> None:
    case = the_case()
    log = honest_log(case, signed=2)  # step 3 sequenced after the checkpoint
    check = check_history(log, case)
    assert (check.state, check.pending) == ("pending", (3,))
    text = page(case, log)
    assert 'data-history="pending"' in text
    assert "Sedang dicatat dalam log transparansi" in text and "tahap ke-3" in text
    assert "Riwayat terverifikasi" not in text
    log.queued.append((RECEIPT, 4))  # in the queue, not yet in the index either: still fine
    assert check_history(log, case).state == "pending"
    english = page(case, log, "en")
    assert "Being recorded in the transparency log" in english and "step 3" in english


@pytest.mark.parametrize("tamper", ["note", "counted_at", "unlogged", "audit_path"])
def test_a_history_that_differs_from_the_log_is_a_clear_warning_naming_the_step(
        tamper: str) -> None:
    logged = the_case()
    log = honest_log(logged)
    if tamper == "note":  # the department rewrote the completion note after publishing
        shown = the_case(note="Izin terbit tepat waktu.")
        seqs: tuple[int, ...] = (3,)
    elif tamper == "counted_at":  # ...or moved the time the clock counts a late report at
        record = public_case(RECEIPT, revision=3, note=NOTE, delays={3: 4})
        record["timeline"][2]["counted_at"] = record["timeline"][2]["at"]
        shown = clean_case(record)
        seqs = (3,)
    elif tamper == "unlogged":  # a step that was never logged
        log = honest_log(logged, skip=2)
        shown = logged
        seqs = (2,)
    else:  # the leaf is right but not under the checkpoint's root
        log.forged_paths.add(2)
        shown = logged
        seqs = (2,)
    check = check_history(log, shown)
    assert check.state == "mismatch" and check.differs + check.unlogged == seqs
    text = page(shown, log)
    assert "Riwayat tidak cocok dengan log transparansi" in text
    assert f"tahap ke-{seqs[0]}" in text and 'id="history-warning"' in text
    assert 'role="alert"' in text and "Riwayat terverifikasi" not in text
    english = page(shown, log, "en")
    assert "History does not match the transparency log" in english
    assert f"step {seqs[0]} differs" in english


def test_a_logged_step_missing_from_the_page_is_a_mismatch_once_it_is_not_recent() -> None:
    full = the_case()
    log = honest_log(full)
    shown = clean_case(public_case(RECEIPT, revision=2))  # step 3 deleted from the record
    received = full.timeline[2].received_at
    just_after = received + timedelta(minutes=3)
    assert check_history(log, shown, now=just_after).state == "verified"  # the indexer lags
    check = check_history(log, shown, now=received + timedelta(hours=1))
    assert (check.state, check.missing) == ("mismatch", (3,))
    notice = history_notice(check, "id")
    assert any("Log transparansi mencatat tahap ke-3" in t for t in notice.texts)
    assert "tidak ada di halaman ini" in page(shown, log)


@pytest.mark.parametrize("log", [None, FakeLog(broken=True), FakeLog()],
                         ids=["no log", "unreadable", "no checkpoint yet"])
def test_a_log_that_cannot_be_read_is_said_so(log: FakeLog | None) -> None:
    case = the_case()
    assert check_history(log, case).state == "unavailable"
    text = page(case, log)
    assert 'data-history="unavailable"' in text
    assert "Riwayat belum dapat diperiksa saat ini" in text
    assert "Riwayat terverifikasi" not in text and "tidak cocok" not in text
    assert f'href="/api/v1/cases/{RECEIPT}/proof"' in text  # check it yourself
    assert "The history cannot be checked right now" in page(case, log, "en")


def test_step_lists_read_naturally() -> None:
    assert step_list((2,), "id") == "tahap ke-2" and step_list((2,), "en") == "step 2"
    assert step_list((1, 2, 4), "id") == "tahap ke-1, ke-2 dan ke-4"
    assert step_list((2, 4), "en") == "steps 2 and 4"


def test_the_rebuilt_leaf_is_the_one_tracking_logs() -> None:
    """The portal rebuilds leaves from the public record exactly like tracking's log_leaf
    (both build pantau_transparency.leaf.Leaf from the public timeline entry)."""
    step = the_case().timeline[2]
    assert step.late_reported and step.counted_at > step.at
    leaf = public_leaf(RECEIPT, step)
    assert f'"counted_at":"{step.counted_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"' in leaf
    assert '"note":"Izin terbit."' in leaf and datetime.now(UTC) > step.received_at


def test_no_checkpoint_yet_is_not_an_operators_problem(caplog: pytest.LogCaptureFixture) -> None:
    """Every case page view before the first checkpoint used to log a warning."""
    caplog.set_level(logging.DEBUG, logger="pantau_publishing.portal.transparency")
    check_history(FakeLog(), the_case())
    check_history(FakeLog(broken=True), the_case())
    missing_node = FakeLog()
    missing_node.receipt_proof = lambda *_a, **_k: {}["node 7"]  # type: ignore[method-assign]
    assert check_history(missing_node, the_case()).state == "unavailable"
    levels = [(r.levelno, "database is away" in r.getMessage()) for r in caplog.records]
    assert levels == [(logging.DEBUG, False), (logging.WARNING, True), (logging.WARNING, False)]
