"""The standalone verifier (tools/verifier/pantau_verify.py) against a fake Pantau served by a real
local HTTP server: a small RFC 9162 tree and signed checkpoints are built here, independently of
the verifier's own code, and then tampered with one way at a time."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "pantau_verify", ROOT / "tools" / "verifier" / "pantau_verify.py")
assert _spec is not None and _spec.loader is not None
pv = importlib.util.module_from_spec(_spec)
sys.modules["pantau_verify"] = pv
_spec.loader.exec_module(pv)

ORIGIN = "pantau.test/transparency"
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # the verifier's clock in these tests


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pv, "now", lambda: NOW)


# --- an independent RFC 9162 §2.1 tree (recursive definitions, straight from the RFC) -----------

def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _split(len(leaves))
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def inclusion_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*inclusion_path(m, leaves[:k]), mth(leaves[k:])]
    return [*inclusion_path(m - k, leaves[k:]), mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return _subproof(m, leaves, True) if 0 < m < len(leaves) else []


# --- a fake deployment -----------------------------------------------------------------------

def _time(day: int, hour: int) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:00:00Z"  # as pydantic writes it (no fraction)


def _leaf_time(value: str) -> str:
    return value.replace("Z", ".000000Z")


def timeline_entry(seq: int, status: str, stage: str | None, day: int, note: str | None,
                   late: bool = False) -> dict[str, Any]:
    received_day = day + (5 if late else 0)
    return {"seq": seq, "status": status, "stage_code": stage,
            "stage_name": {"id": "Tahap", "en": "Stage"} if stage else None,
            "at": _time(day, 2), "received_at": _time(received_day, 3),
            "counted_at": _time(day + (4 if late else 0), 2), "late_reported": late,
            "reporting_delay_days": 5 if late else 0, "note": note, "actor_role": None,
            "working_days": None}


def recent_entry(seq: int, status: str, minutes_ago: float) -> dict[str, Any]:
    """A step claimed, received and counted ``minutes_ago`` before ``NOW``."""
    moment = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**timeline_entry(seq, status, None, 1, None), "at": moment, "received_at": moment,
            "counted_at": moment}


def leaf_for(receipt: str, entry: dict[str, Any]) -> str:
    """The leaf as the spec writes it (RFC 8785 key order spelled out by hand)."""
    def s(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)
    return ('{"claimed_at":' + s(_leaf_time(entry["at"])) + ',"counted_at":'
            + s(_leaf_time(entry["counted_at"])) + ',"late_reported":'
            + s(entry["late_reported"]) + ',"note":' + s(entry["note"]) + ',"receipt_number":'
            + s(receipt) + ',"received_at":' + s(_leaf_time(entry["received_at"]))
            + ',"seq":' + str(entry["seq"]) + ',"stage_code":' + s(entry["stage_code"])
            + ',"status":' + s(entry["status"]) + ',"v":1}')


def key_id(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint(key: Ed25519PrivateKey, leaves: list[bytes], minute: int = 0,
               kid: str | None = None) -> dict[str, Any]:
    root = mth(leaves)
    stamp = f"2026-03-20T08:{minute:02d}:00.000000Z"
    note = f"{ORIGIN}\n{len(leaves)}\n{base64.b64encode(root).decode()}\n{stamp}\n"
    return {"origin": ORIGIN, "tree_size": len(leaves), "root_hash": root.hex(),
            "timestamp": stamp, "key_id": kid or key_id(key),
            "signature": base64.b64encode(key.sign(note.encode())).decode(), "note": note}


@dataclass
class FakePantau:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    leaves: list[bytes] = field(default_factory=list)
    where: dict[tuple[str, int], int] = field(default_factory=dict)  # (receipt, seq) -> index
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    latest: dict[str, Any] | None = None
    proof_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    retired: list[Ed25519PrivateKey] = field(default_factory=list)  # still published
    leaf_page: int = 4  # leaves per /transparency/leaves answer (1,000 in Pantau)
    served_leaves: dict[int, bytes] = field(default_factory=dict)  # what the server lies about
    requests: list[str] = field(default_factory=list)

    def rotate(self) -> Ed25519PrivateKey:
        """A new signing key; the old one stays published (as Pantau's transparency_keys)."""
        self.retired.append(self.key)
        self.key = Ed25519PrivateKey.generate()
        return self.key

    def log(self, receipt: str, entry: dict[str, Any]) -> int:
        """Append one leaf for (receipt, entry) and point the receipt_number index at it."""
        self.where[(receipt, entry["seq"])] = len(self.leaves)
        self.leaves.append(leaf_for(receipt, entry).encode())
        return len(self.leaves) - 1

    def add_case(self, receipt: str, timeline: list[dict[str, Any]]) -> None:
        self.cases[receipt] = {"receipt_number": receipt, "status": timeline[-1]["status"],
                               "timeline": timeline}
        for entry in timeline:
            self.where[(receipt, entry["seq"])] = len(self.leaves)
            self.leaves.append(leaf_for(receipt, entry).encode())

    def sign(self, minute: int = 0) -> dict[str, Any]:
        cp = checkpoint(self.key, self.leaves, minute)
        self.checkpoints.append(cp)
        self.latest = cp
        return cp

    def proof(self, receipt: str) -> dict[str, Any] | None:
        if receipt in self.proof_overrides:
            return self.proof_overrides[receipt]
        assert self.latest is not None
        size = self.latest["tree_size"]
        entries, pending = [], []
        for (r, seq), index in sorted(self.where.items()):
            if r != receipt:
                continue
            if index >= size:
                pending.append(seq)
                continue
            leaf = self.leaves[index]
            entries.append({"seq": seq, "leaf_index": index, "leaf": leaf.decode(),
                            "leaf_hash": _h(b"\x00" + leaf).hex(), "audit_path": [
                                h.hex() for h in inclusion_path(index, self.leaves[:size])]})
        if not entries and not pending:
            return None
        return {"receipt_number": receipt, "checkpoint": self.latest, "entries": entries,
                "pending": pending}

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        self.requests.append(path)
        if path == "/api/v1/transparency/key":
            listed = []
            for key in [*self.retired, self.key]:
                raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                listed.append({"key_id": key_id(key), "algorithm": "Ed25519",
                               "public_key": base64.b64encode(raw).decode(),
                               "current": key is self.key})
            return 200, {"keys": listed}
        if path == "/api/v1/transparency/leaves":
            start, end = int(query["start"][0]), int(query["end"][0])
            top = self.latest["tree_size"] if self.latest else 0
            if not 0 <= start <= end <= top:
                return 400, {"title": "No such leaves"}
            end = min(end, start + self.leaf_page)
            return 200, {"start": start, "end": end, "leaves": [
                {"leaf_index": i, "leaf": self.served_leaves.get(i, self.leaves[i]).decode()}
                for i in range(start, end)]}
        if path == "/api/v1/transparency/checkpoints/latest":
            return (200, self.latest) if self.latest else (404, {"title": "none"})
        if path == "/api/v1/transparency/checkpoints":
            after, limit = int(query["after"][0]), int(query.get("limit", ["100"])[0])
            found = [c for c in self.checkpoints if c["tree_size"] > after]
            return 200, {"checkpoints": sorted(found, key=lambda c: c["tree_size"])[:limit]}
        if path == "/api/v1/transparency/consistency":
            first, second = int(query["from"][0]), int(query["to"][0])
            proof = consistency_proof(first, self.leaves[:second])
            return 200, {"from": first, "to": second, "proof": [h.hex() for h in proof]}
        if path.startswith("/api/v1/cases/"):
            rest = unquote(path.removeprefix("/api/v1/cases/"))
            if rest.endswith("/proof"):
                found = self.proof(rest.removesuffix("/proof"))
            else:
                found = self.cases.get(rest)
            return (200, found) if found is not None else (404, {"title": "unknown case"})
        return 404, {"title": "no route"}


@pytest.fixture
def fake() -> Iterator[tuple[FakePantau, str]]:
    site = FakePantau()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            status, body = site.answer(url.path, parse_qs(url.query))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def populate(site: FakePantau) -> None:
    site.add_case("BDG-PBG-2026-000001", [
        timeline_entry(1, "diajukan", None, 2, "Berkas diterima."),
        timeline_entry(2, "verifikasi", "verifikasi-berkas", 3, None),
        timeline_entry(3, "diproses", "konsultasi-teknis", 5, "Jadwal “TPA” — Ü", late=True)])
    site.add_case("BDG-KK-2026-000002", [
        timeline_entry(1, "diajukan", None, 4, None),
        timeline_entry(2, "selesai", None, 6, "Dokumen terbit.\nSilakan ambil.")])
    site.add_case("BDG-SLF-2026-000003", [timeline_entry(1, "diajukan", None, 9, None)])
    site.sign()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = pv.main(list(argv))
    return code, capsys.readouterr().out


RECEIPTS = ("BDG-PBG-2026-000001", "BDG-KK-2026-000002", "BDG-SLF-2026-000003")


# --- the proof algorithms, exhaustively for small trees ----------------------------------------

def test_inclusion_and_consistency_match_the_rfc_definitions() -> None:
    leaves = [f"leaf {i}".encode() for i in range(17)]
    for n in range(1, 18):
        root = mth(leaves[:n])
        for m in range(n):
            path = inclusion_path(m, leaves[:n])
            hashed = pv.leaf_hash(leaves[m])
            assert pv.verify_inclusion(hashed, m, n, path, root)
            assert not pv.verify_inclusion(hashed, m, n, path, mth(leaves[:n - 1] + [b"x"]))
            assert not pv.verify_inclusion(hashed, m + 1, n, path, root) or n == 1
            if path:
                assert not pv.verify_inclusion(hashed, m, n, path[:-1], root)
        for m in range(1, n + 1):
            proof = consistency_proof(m, leaves[:n])
            assert pv.verify_consistency(m, n, mth(leaves[:m]), root, proof), (m, n)
            if m < n:
                forked = mth(leaves[:m - 1] + [b"forged"])
                assert not pv.verify_consistency(m, n, forked, root, proof), (m, n)
                assert not pv.verify_consistency(m, n, mth(leaves[:m]), mth(leaves[:n - 1]),
                                                 proof) or n - 1 == m


# --- verify ------------------------------------------------------------------------------------

def test_verify_passes_on_an_honest_log(fake, capsys) -> None:
    site, url = fake
    populate(site)
    code, out = run(capsys, "--base-url", url, "verify", *RECEIPTS)
    assert code == 0, out
    assert "3 of 3 receipts verified" in out
    code, out = run(capsys, "--base-url", url, "--json", "verify", *RECEIPTS)
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert report["receipts"][0]["logged"] == [1, 2, 3]


def test_recent_pending_entries_are_not_failures(fake, capsys) -> None:
    site, url = fake
    populate(site)
    site.add_case("BDG-IR-2026-000004", [recent_entry(1, "diajukan", 3)])
    site.cases["BDG-PBG-2026-000001"]["timeline"].append(recent_entry(4, "selesai", 9))
    site.log("BDG-PBG-2026-000001", site.cases["BDG-PBG-2026-000001"]["timeline"][-1])
    code, out = run(capsys, "--base-url", url, "verify", "BDG-PBG-2026-000001",
                    "BDG-IR-2026-000004")
    assert code == 0, out
    assert "1 pending" in out and "2 of 2 receipts verified" in out


def test_an_entry_pending_for_too_long_fails(fake, capsys) -> None:
    """A step never covered by a signed checkpoint would escape verification for ever: pending
    is accepted only while the step is recent (10 minutes, or --max-pending-age)."""
    site, url = fake
    populate(site)
    site.cases["BDG-PBG-2026-000001"]["timeline"].append(recent_entry(4, "selesai", 11))
    site.log("BDG-PBG-2026-000001", site.cases["BDG-PBG-2026-000001"]["timeline"][-1])
    code, out = run(capsys, "--base-url", url, "verify", "BDG-PBG-2026-000001")
    assert code == 1, out
    assert "BDG-PBG-2026-000001 seq 4 (pending): still not in a signed checkpoint " \
        "(received 11 min ago; at most 600 s expected)" in out
    code, out = run(capsys, "--base-url", url, "verify", "--max-pending-age", "900",
                    "BDG-PBG-2026-000001")
    assert code == 0, out


def test_a_pending_entry_before_a_logged_one_fails(fake, capsys) -> None:
    site, url = fake
    populate(site)
    proof = site.proof("BDG-PBG-2026-000001")
    assert proof is not None
    site.cases["BDG-PBG-2026-000001"]["timeline"][0].update(recent_entry(1, "diajukan", 1))
    proof["entries"] = proof["entries"][1:]
    proof["pending"] = [1]
    site.proof_overrides["BDG-PBG-2026-000001"] = proof
    code, out = run(capsys, "--base-url", url, "verify", "BDG-PBG-2026-000001")
    assert code == 1
    assert "seq 1 (pending): not in checkpoint 6 although the later seq 3 is" in out


def test_logged_but_not_yet_public_is_retry_when_recent(fake, capsys) -> None:
    """The proof is fetched before the public record: a step logged meanwhile is then in both.
    One logged but not (yet) public is "not yet published, retry" (exit 2) while its logged
    received time is recent; later it is a finding (exit 1)."""
    site, url = fake
    populate(site)
    receipt = "BDG-KK-2026-000002"
    site.log(receipt, recent_entry(3, "selesai", 2))  # the indexer has not caught up
    site.sign(1)
    code, out = run(capsys, "--base-url", url, "--json", "verify", receipt)
    report = json.loads(out)
    assert code == 2 and report["ok"] is False
    result = report["receipts"][0]
    assert result["status"] == "retry" and result["problems"] == []
    assert result["retry"] == [f"{receipt} seq 3 (leaf 6): logged (received 2 min ago) but not "
                               "yet in the public record: not yet published, retry"]
    code, out = run(capsys, "--base-url", url, "verify", receipt, "BDG-SLF-2026-000003")
    assert code == 2 and "RETRY" in out and "not yet published" in out
    assert "1 of 2 receipts verified; 1 not yet published" in out
    code, out = run(capsys, "--base-url", url, "verify", "--max-pending-age", "60", receipt)
    assert code == 1 and f"{receipt} seq 3 (leaf 6): logged but missing from the public" in out
    assert [p for p in site.requests if p.startswith("/api/v1/cases/")][:2] == [
        f"/api/v1/cases/{receipt}/proof", f"/api/v1/cases/{receipt}"]  # the proof first


def test_public_but_not_yet_logged_is_retry_when_recent(fake, capsys) -> None:
    site, url = fake
    populate(site)
    site.cases["BDG-SLF-2026-000003"]["timeline"].append(recent_entry(2, "verifikasi", 1))
    code, out = run(capsys, "--base-url", url, "verify", "BDG-SLF-2026-000003")
    assert code == 2 and "seq 2: in the public record (received 60 s ago) but not yet " \
        "logged: retry" in out


def test_a_changed_public_record_fails_naming_receipt_seq_and_field(fake, capsys) -> None:
    site, url = fake
    populate(site)
    site.cases["BDG-PBG-2026-000001"]["timeline"][1]["at"] = _time(2, 9)  # claims earlier work
    code, out = run(capsys, "--base-url", url, "verify", *RECEIPTS)
    assert code == 1
    assert "BDG-PBG-2026-000001 seq 2 (leaf 1): public record differs in claimed_at" in out
    assert "2 of 3 receipts verified; 1 FAILED" in out


def test_a_changed_counted_time_fails(fake, capsys) -> None:
    """The time the service clock counts is committed to: moving it (to make a late completion
    count earlier) is a change of the public record."""
    site, url = fake
    populate(site)
    site.cases["BDG-PBG-2026-000001"]["timeline"][2]["counted_at"] = _time(5, 2)
    code, out = run(capsys, "--base-url", url, "verify", RECEIPTS[0])
    assert code == 1
    assert "BDG-PBG-2026-000001 seq 3 (leaf 2): public record differs in counted_at" in out


def test_a_tampered_logged_leaf_fails_its_audit_path(fake, capsys) -> None:
    site, url = fake
    populate(site)
    proof = site.proof("BDG-KK-2026-000002")
    assert proof is not None
    entry = proof["entries"][1]
    entry["leaf"] = entry["leaf"].replace("selesai", "ditolak")
    entry["leaf_hash"] = pv.leaf_hash(entry["leaf"].encode()).hex()
    site.proof_overrides["BDG-KK-2026-000002"] = proof
    code, out = run(capsys, "--base-url", url, "--json", "verify", "BDG-KK-2026-000002")
    problems = json.loads(out)["receipts"][0]["problems"]
    assert code == 1
    assert any("seq 2" in p and "differs in status" in p for p in problems)
    assert any("seq 2" in p and "audit path does not lead to the root" in p for p in problems)


def test_a_tampered_checkpoint_note_fails(fake, capsys) -> None:
    site, url = fake
    populate(site)
    assert site.latest is not None
    site.latest["note"] = site.latest["note"].replace(ORIGIN, "evil.example/log")
    code, out = run(capsys, "--base-url", url, "verify", RECEIPTS[0])
    assert code == 1
    assert "note does not match its fields" in out


def test_a_wrong_signature_fails(fake, capsys) -> None:
    site, url = fake
    populate(site)
    forged = checkpoint(Ed25519PrivateKey.generate(), site.leaves, kid=key_id(site.key))
    site.checkpoints[-1] = site.latest = forged
    code, out = run(capsys, "--base-url", url, "verify", RECEIPTS[0])
    assert code == 1
    assert f"signature does not verify with key {key_id(site.key)}" in out
    site.latest = checkpoint(Ed25519PrivateKey.generate(), site.leaves)
    code, out = run(capsys, "--base-url", url, "verify", RECEIPTS[0])
    assert code == 1 and "which is not a published (or pinned) key" in out


def test_pinned_key_ids(fake, capsys) -> None:
    site, url = fake
    populate(site)
    code, out = run(capsys, "--base-url", url, "--pin", key_id(site.key), "verify", RECEIPTS[0])
    assert code == 0, out
    code, out = run(capsys, "--base-url", url, "--pin", "0123456789abcdef", "verify", RECEIPTS[0])
    assert code == 1 and f"signed by key '{key_id(site.key)}', which is not a published" in out


def test_missing_and_unlogged_entries_are_named(fake, capsys) -> None:
    site, url = fake
    populate(site)
    del site.cases["BDG-PBG-2026-000001"]["timeline"][2]  # withheld from the public
    proof = site.proof("BDG-KK-2026-000002")
    assert proof is not None
    proof["entries"] = proof["entries"][:1]  # a public step that was never logged
    site.proof_overrides["BDG-KK-2026-000002"] = proof
    code, out = run(capsys, "--base-url", url, "verify", *RECEIPTS)
    assert code == 1
    assert "BDG-PBG-2026-000001 seq 3 (leaf 2): logged but missing from the public record" in out
    assert "BDG-KK-2026-000002 seq 2: in the public record but not logged" in out


def test_an_unreachable_server_is_exit_code_2(capsys) -> None:
    code, out = run(capsys, "--base-url", "http://127.0.0.1:9", "--timeout", "2", "verify", "X")
    assert code == 2 and out.startswith("ERROR")


# --- monitor -----------------------------------------------------------------------------------

def grow(site: FakePantau, n: int, minute: int) -> None:
    """``n`` more cases of one step each, then a checkpoint."""
    for _ in range(n):
        site.log(f"BDG-GRW-2026-{len(site.leaves):06d}", timeline_entry(1, "diajukan", None, 9,
                                                                        None))
    site.sign(minute)


def test_monitor_follows_an_append_only_log(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)  # 6 leaves
    state = tmp_path / "state.json"
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 0, out
    grow(site, 2, 1)
    grow(site, 3, 2)
    grow(site, 5, 3)  # 16: a power of two
    grow(site, 1, 4)
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 0, out
    assert "up to tree size 17" in out
    sizes = [c["tree_size"] for c in json.loads(state.read_text())["checkpoints"]]
    assert sizes == [6, 8, 11, 16, 17]
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))  # nothing new
    assert code == 0, out


def test_monitor_detects_a_rewritten_history(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    site.leaves[2] = leaf_for("BDG-PBG-2026-000001", timeline_entry(
        3, "diproses", "konsultasi-teknis", 5, "Jadwal TPA", late=False)).encode()
    grow(site, 3, 1)
    code, out = run(capsys, "--base-url", url, "--json", "monitor", "--state", str(state))
    report = json.loads(out)
    assert code == 1
    assert report["problems"] == ["FORK: checkpoint 9 is not an append-only extension of "
                                  "checkpoint 6 (consistency proof fails)"]
    saved = json.loads(state.read_text())
    assert [c["tree_size"] for c in saved["checkpoints"]] == [6]  # the good head is kept
    assert saved["conflicts"][0]["checkpoint"]["tree_size"] == 9  # evidence is kept


def test_monitor_detects_same_size_other_root_and_going_backwards(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    honest = list(site.leaves)
    site.leaves[0] = b"rewritten"
    site.latest = checkpoint(site.key, site.leaves, 5)
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 1 and "FORK: two checkpoints of size 6 with different roots" in out
    site.latest = checkpoint(site.key, honest[:4], 6)
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 1 and "ROLLBACK: tree size went backwards from 6 to 4" in out


def test_monitor_rejects_a_badly_signed_checkpoint(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    grow(site, 2, 1)
    assert site.latest is not None
    site.latest["signature"] = base64.b64encode(bytes(64)).decode()
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 1 and "checkpoint 8: signature does not verify" in out


# --- monitor: auditing every leaf like a Certificate Transparency monitor ----------------------

def run_all(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = pv.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_monitor_catches_a_relabelled_rewritten_entry(fake, capsys, tmp_path) -> None:
    """The relabel attack: an insider points an old leaf's unhashed receipt_number column
    elsewhere and appends a rewritten leaf for the same receipt and seq. The tree only grew, so
    consistency proofs pass, and the proof endpoint now shows the rewritten leaf, so verify
    passes too — but the monitor reads the receipt and seq from the hashed leaves themselves."""
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    receipt = "BDG-PBG-2026-000001"
    rewritten = {**site.cases[receipt]["timeline"][1], "note": "Lengkap sejak awal."}
    assert site.log(receipt, rewritten) == 6  # where[(receipt, 2)] now names leaf 6, not 1
    site.cases[receipt]["timeline"][1] = rewritten
    site.sign(1)
    code, out = run(capsys, "--base-url", url, "verify", receipt)
    assert code == 0, out  # what verify alone cannot see
    code, out = run(capsys, "--base-url", url, "--json", "monitor", "--state", str(state))
    report = json.loads(out)
    assert code == 1
    assert report["problems"] == [
        f"DUPLICATE: leaves 1 and 6 both claim {receipt} seq 2: the log holds two versions of "
        "one public entry (a rewritten entry appended under a relabelled old one)"]
    saved = json.loads(state.read_text())
    assert [c["tree_size"] for c in saved["checkpoints"]] == [6]  # the good head is kept
    assert saved["audit"]["tree_size"] == 6 and saved["conflicts"][0]["checkpoint"][
        "tree_size"] == 7
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 1  # stays


def test_monitor_recomputes_the_root_itself(fake, capsys, tmp_path) -> None:
    """Leaves served that are not the leaves signed fail even though the consistency proof
    (computed by the server from its real tree) verifies: the monitor trusts no proof."""
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    grow(site, 5, 1)
    site.served_leaves[8] = leaf_for("BDG-GRW-2026-000008", timeline_entry(
        1, "ditolak", None, 9, None)).encode()
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 1
    assert "INCONSISTENT: the leaves served from 6 to 11 do not hash to the root of " \
           "checkpoint 11: the log is inconsistent with its own signed checkpoint" in out
    del site.served_leaves[8]
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 0 and "11 leaves hashed" in out


def test_monitor_state_is_a_compact_range_and_an_entry_index(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    for minute, n in enumerate((1, 4, 2, 10), start=1):  # pages of 4: several per checkpoint
        grow(site, n, minute)
        assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    audit = json.loads(state.read_text())["audit"]
    assert audit["tree_size"] == 23 == len(site.leaves)
    assert len(audit["frontier"]) == bin(23).count("1")  # O(log n): one hash per set bit
    frontier = [bytes.fromhex(h) for h in audit["frontier"]]
    assert pv.frontier_root(frontier) == mth(site.leaves)
    assert audit["entries"]["BDG-PBG-2026-000001"] == {"1": 0, "2": 1, "3": 2}
    assert audit["entries"]["BDG-GRW-2026-000022"] == {"1": 22}


def test_a_state_from_before_the_audit_is_audited_from_the_first_leaf(fake, capsys,
                                                                      tmp_path) -> None:
    site, url = fake
    populate(site)
    grow(site, 3, 1)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"checkpoints": [
        {k: c[k] for k in ("tree_size", "root_hash", "timestamp", "key_id", "signature", "note")}
        for c in site.checkpoints]}))
    code, out, err = run_all(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 0, out
    assert "9 leaves hashed" in out and "not seen before" not in err  # its keys are known
    site.leaves[0] = b"rewritten"  # what it holds no longer hashes to checkpoint 6
    state.write_text(json.dumps({"checkpoints": json.loads(state.read_text())["checkpoints"]}))
    code, out = run(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 1 and "do not hash to the root of checkpoint 6" in out


def test_seqs_out_of_order_are_only_a_warning(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    site.log("BDG-IR-2026-000009", timeline_entry(1, "diajukan", None, 9, None))
    site.log("BDG-IR-2026-000009", timeline_entry(3, "selesai", None, 9, None))
    site.log("BDG-IR-2026-000010", timeline_entry(2, "diajukan", None, 9, None))
    site.sign(1)
    code, out, err = run_all(capsys, "--base-url", url, "--json", "monitor", "--state",
                             str(tmp_path / "state.json"))
    assert code == 0, out
    expected = ["BDG-IR-2026-000009 seq 3 is logged at leaf 7 after seq 1 (expected seq 2): "
                "its seqs are not 1..N in leaf order",
                "BDG-IR-2026-000010 seq 2 is logged at leaf 8 as its first entry (expected "
                "seq 1): its seqs are not 1..N in leaf order"]
    assert [w for w in json.loads(out)["warnings"] if "seq" in w] == expected
    assert all(f"WARNING {w}" in err for w in expected)


def test_monitor_warns_about_a_signing_key_it_has_not_seen(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    first = key_id(site.key)
    code, out, err = run_all(capsys, "--base-url", url, "--json", "monitor", "--state",
                             str(state))
    assert code == 0 and json.loads(out)["new_keys"] == [first] and first in err
    grow(site, 2, 1)
    code, out, err = run_all(capsys, "--base-url", url, "--json", "monitor", "--state",
                             str(state))
    assert code == 0 and json.loads(out)["new_keys"] == [] and err == ""
    rotated = key_id(site.rotate())
    grow(site, 2, 2)
    code, out, err = run_all(capsys, "--base-url", url, "--json", "monitor", "--state",
                             str(state))
    report = json.loads(out)
    assert code == 0 and report["new_keys"] == [rotated]
    assert (f"WARNING checkpoint 10 is signed by key {rotated}, which this monitor has not seen "
            "before: check that the operator announced it (out of band)") in err
    assert json.loads(state.read_text())["keys_seen"] == [first, rotated]
    grow(site, 1, 3)
    code, out, err = run_all(capsys, "--base-url", url, "monitor", "--state", str(state))
    assert code == 0 and "WARNING" not in err
    grow(site, 1, 4)  # pinned to the announced (old) key only: the unknown key fails
    code, out = run(capsys, "--base-url", url, "--pin", first, "monitor", "--state", str(state))
    assert code == 1 and f"signed by key '{rotated}', which is not a published (or pinned)" in out


# --- verify --state: verify sees the log the monitor saw ---------------------------------------

def test_verify_with_the_monitors_state_refuses_a_split_view(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    state = tmp_path / "state.json"
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0
    grow(site, 2, 1)  # newer than the monitor's checkpoint, consistent with it
    code, out = run(capsys, "--base-url", url, "verify", "--state", str(state), *RECEIPTS)
    assert code == 0, out
    assert "consistent with the monitor's checkpoint 6" in out
    assert run(capsys, "--base-url", url, "monitor", "--state", str(state))[0] == 0  # now at 8

    site.latest = site.checkpoints[0]  # verify is shown an older checkpoint: still consistent
    code, out = run(capsys, "--base-url", url, "--json", "verify", "--state", str(state),
                    RECEIPTS[0])
    assert code == 0, out
    assert json.loads(out)["monitor_tree_size"] == 8

    # A different log for this reader: the same cases, rewritten under a fresh tree.
    honest = list(site.leaves)
    site.leaves[5] = leaf_for("BDG-SLF-2026-000003", {
        **site.cases["BDG-SLF-2026-000003"]["timeline"][0], "note": "x"}).encode()
    site.cases["BDG-SLF-2026-000003"]["timeline"][0]["note"] = "x"
    site.sign(2)
    code, out = run(capsys, "--base-url", url, "verify", "BDG-SLF-2026-000003")
    assert code == 0, out  # on its own, verify cannot tell
    code, out = run(capsys, "--base-url", url, "verify", "--state", str(state),
                    "BDG-SLF-2026-000003")
    assert code == 1
    assert "BDG-SLF-2026-000003: checkpoint 8 is not consistent with checkpoint 8 that the " \
           f"monitor holds ({state}): this server shows you a different log" in out
    site.leaves = honest
    grow(site, 1, 3)
    site.leaves[5] = leaf_for("BDG-SLF-2026-000003", {
        **site.cases["BDG-SLF-2026-000003"]["timeline"][0], "note": "x"}).encode()
    site.sign(4)
    code, out = run(capsys, "--base-url", url, "verify", "--state", str(state),
                    "BDG-SLF-2026-000003")
    assert code == 1 and "checkpoint 9 is not consistent with checkpoint 8" in out


def test_verify_state_must_exist(fake, capsys, tmp_path) -> None:
    site, url = fake
    populate(site)
    code, out = run(capsys, "--base-url", url, "verify", "--state",
                    str(tmp_path / "none.json"), RECEIPTS[0])
    assert code == 2 and "run `monitor --state" in out
