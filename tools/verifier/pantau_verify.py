#!/usr/bin/env python3
"""Check a Pantau deployment's public transparency log yourself — no Pantau code involved.

Needs Python 3.11+ and the ``cryptography`` package (``pip install cryptography``). Two commands:

    python pantau_verify.py --base-url https://pantau.example.go.id verify BDG-PBG-2026-000123 ...
    python pantau_verify.py --base-url https://pantau.example.go.id monitor --state pantau.json

``verify`` fetches each case's public record (``/api/v1/cases/{receipt}``) and its proof
(``/api/v1/cases/{receipt}/proof``), rebuilds every timeline entry's log leaf from the PUBLIC
record, compares it with the logged leaf, checks each audit path against the checkpoint's root
(RFC 9162 §2.1.3.2), and checks the checkpoint note and its Ed25519 signature against the
published keys (``/api/v1/transparency/key``). Entries logged but missing from the public record
and public entries never logged (other than ``pending`` ones, not yet in a checkpoint) fail.

``monitor`` remembers every checkpoint it has seen in a JSON state file. Each run fetches the latest
checkpoint and those in between, checks their signatures and that each new one is an append-only
extension of the last one seen (consistency proofs, RFC 9162 §2.1.4.2). Run it from cron; a
rewrite of history (a fork, the same size with another root, a size going backwards) fails.

``--pin KEY_ID`` (repeatable) trusts only signing keys whose ids you learnt out of band (the
operator's announcement); without it, every key the server publishes is trusted.

Exit codes: 0 everything verified; 1 a verification failure (named: receipt + seq, or both tree
sizes); 2 the server could not be reached or answered something unusable. ``--json`` prints a
machine-readable report instead of the human summary.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LEAF_FIELDS = ("v", "receipt_number", "seq", "status", "stage_code", "claimed_at",
               "received_at", "counted_at", "note", "late_reported")


class Unreachable(Exception):
    """The server did not give a usable answer (exit code 2)."""


class Client:
    """GET JSON from the deployment. A 404 returns None; any other trouble raises Unreachable."""

    def __init__(self, base_url: str, timeout: float) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise Unreachable(f"--base-url must be http(s)://…, not {base_url!r}")
        self.base, self.timeout = base_url.rstrip("/"), timeout

    def get(self, path: str, **params: Any) -> Any:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise Unreachable(f"GET {url}: HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise Unreachable(f"GET {url}: {exc}") from exc


# --- RFC 9162 §2.1: hashing and proof verification ------------------------------------------

def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(hash_: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` lead from leaf ``index`` to ``root`` (tree of ``size``)?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, hash_
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       path: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (size2, root2) an append-only extension of (size1, root1)?"""
    if size1 == size2:
        return not path and root1 == root2
    if size1 == 0:
        return not path  # the empty tree is a prefix of every tree
    if size1 > size2 or not path:
        return False
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is itself a node
        path = [root1, *path]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


# --- keys and checkpoints ---------------------------------------------------------------------

def load_keys(client: Client, pins: list[str] | None = None) -> dict[str, Ed25519PublicKey]:
    """The published keys by key id; a key whose id is not SHA-256(key)[:16 hex] is refused.
    With ``pins`` (key ids learnt out of band), only those keys are trusted."""
    answer = client.get("/api/v1/transparency/key")
    if not isinstance(answer, dict):
        raise Unreachable("no /api/v1/transparency/key on this server")
    return keys_from(answer, pins)


def keys_from(answer: dict[str, Any], pins: list[str] | None = None
              ) -> dict[str, Ed25519PublicKey]:
    """The keys of a ``/api/v1/transparency/key`` answer (see ``load_keys``)."""
    keys = {}
    for item in answer.get("keys", []):
        raw = base64.b64decode(item["public_key"])
        if hashlib.sha256(raw).hexdigest()[:16] != item["key_id"]:
            raise Unreachable(f"published key {item['key_id']} does not match its key id")
        if not pins or item["key_id"] in pins:
            keys[item["key_id"]] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def check_checkpoint(cp: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> list[str]:
    """Problems with a checkpoint: its note must be rebuilt exactly from its fields (C2SP
    tlog-checkpoint style) and carry a valid Ed25519 signature by the key its key_id names."""
    where = f"checkpoint {cp.get('tree_size')}"
    try:
        root = bytes.fromhex(cp["root_hash"])
        note = (f"{cp['origin']}\n{int(cp['tree_size'])}\n{base64.b64encode(root).decode()}\n"
                f"{cp['timestamp']}\n")
    except (KeyError, ValueError, TypeError) as exc:
        return [f"{where}: malformed ({exc})"]
    problems = []
    if note != cp.get("note"):
        problems.append(f"{where}: note does not match its fields")
    key = keys.get(cp.get("key_id", ""))
    if key is None:
        return [*problems, f"{where}: signed by key {cp.get('key_id')!r}, which is not a "
                           "published (or pinned) key"]
    try:
        key.verify(base64.b64decode(cp.get("signature", "")), cp.get("note", "").encode())
    except (InvalidSignature, ValueError):
        problems.append(f"{where}: signature does not verify with key {cp['key_id']}")
    return problems


# --- verify -----------------------------------------------------------------------------------

def utc(value: str) -> str:
    """A public time string as the leaf writes it: UTC, %Y-%m-%dT%H:%M:%S.%fZ (naive = UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: dict[str, Any]) -> str:
    """RFC 8785 canonical JSON for what leaves hold (ASCII keys, str/int/bool/null, no floats)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def expected_leaf(receipt: str, entry: dict[str, Any]) -> str:
    return canonical({
        "v": 1, "receipt_number": receipt, "seq": entry["seq"], "status": entry["status"],
        "stage_code": entry.get("stage_code"), "claimed_at": utc(entry["at"]),
        "received_at": utc(entry["received_at"]), "counted_at": utc(entry["counted_at"]),
        "note": entry.get("note"),
        "late_reported": bool(entry.get("late_reported", False))})


def leaf_diff(expected: str, logged: str) -> str:
    try:
        a, b = json.loads(expected), json.loads(logged)
    except ValueError:
        return "the logged leaf is not JSON"
    fields = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return ("differs in " + ", ".join(fields)) if fields else "differs in encoding"


def verify_receipt(client: Client, keys: dict[str, Ed25519PublicKey], receipt: str
                   ) -> dict[str, Any]:
    path = "/api/v1/cases/" + urllib.parse.quote(receipt, safe="")
    case, proof = client.get(path), client.get(path + "/proof")
    problems: list[str] = []
    if proof is None:
        return {"receipt": receipt, "ok": False, "problems": [f"{receipt}: no proof published"]}
    if case is None:
        problems.append(f"{receipt}: no public record")
    cp = proof["checkpoint"]
    problems += [f"{receipt}: {p}" for p in check_checkpoint(cp, keys)]
    root, size = bytes.fromhex(cp["root_hash"]), int(cp["tree_size"])
    timeline = {e["seq"]: e for e in (case or {}).get("timeline", [])}
    logged = set()
    for entry in proof.get("entries", []):
        seq, index = entry["seq"], entry["leaf_index"]
        logged.add(seq)
        where = f"{receipt} seq {seq} (leaf {index})"
        if seq not in timeline:
            problems.append(f"{where}: logged but missing from the public record")
        else:
            try:
                expected = expected_leaf(receipt, timeline[seq])
            except (KeyError, ValueError, TypeError) as exc:
                expected = f"unreadable public entry: {exc}"
            if expected != entry["leaf"]:
                problems.append(f"{where}: public record {leaf_diff(expected, entry['leaf'])}"
                                " from the logged leaf")
        hashed = leaf_hash(entry["leaf"].encode("utf-8"))
        if hashed.hex() != entry.get("leaf_hash", "").lower():
            problems.append(f"{where}: leaf_hash is not the hash of the leaf")
        audit = [bytes.fromhex(h) for h in entry.get("audit_path", [])]
        if not verify_inclusion(hashed, index, size, audit, root):
            problems.append(f"{where}: audit path does not lead to the root of checkpoint {size}")
    pending = set(proof.get("pending", []))
    for seq in sorted(set(timeline) - logged - pending):
        problems.append(f"{receipt} seq {seq}: in the public record but not logged")
    return {"receipt": receipt, "ok": not problems, "tree_size": size,
            "root_hash": cp["root_hash"], "logged": sorted(logged),
            "pending": sorted(pending), "problems": problems}


def cmd_verify(client: Client, args: argparse.Namespace) -> tuple[int, dict[str, Any], str]:
    keys = load_keys(client, args.pin)
    results = [verify_receipt(client, keys, r) for r in args.receipts]
    lines = []
    for r in results:
        extra = f", {len(r['pending'])} pending" if r.get("pending") else ""
        verdict = "OK  " if r["ok"] else "FAIL"
        lines.append(f"{verdict} {r['receipt']}: {len(r.get('logged', []))} entries logged"
                     f"{extra}" + (f" (checkpoint {r['tree_size']}, root {r['root_hash'][:16]}…)"
                                   if "tree_size" in r else ""))
        lines += [f"     - {p}" for p in r["problems"]]
    failed = sum(not r["ok"] for r in results)
    lines.append(f"{len(results) - failed} of {len(results)} receipts verified"
                 + (f"; {failed} FAILED" if failed else ""))
    return (1 if failed else 0), {"ok": not failed, "receipts": results}, "\n".join(lines)


# --- monitor ----------------------------------------------------------------------------------

def cmd_monitor(client: Client, args: argparse.Namespace) -> tuple[int, dict[str, Any], str]:
    state_file = Path(args.state)
    state = json.loads(state_file.read_text()) if state_file.exists() else {"checkpoints": []}
    seen: list[dict[str, Any]] = state["checkpoints"]
    keys = load_keys(client, args.pin)
    latest = client.get("/api/v1/transparency/checkpoints/latest")
    if latest is None:
        return 0, {"ok": True, "new": 0}, "no checkpoint published yet"
    last = seen[-1] if seen else None
    new = [latest]
    if last is not None and latest["tree_size"] > last["tree_size"]:
        between: list[dict[str, Any]] = []
        after = last["tree_size"]
        while True:
            page = client.get("/api/v1/transparency/checkpoints", after=after, limit=100) or {}
            got = [c for c in page.get("checkpoints", [])
                   if after < c["tree_size"] < latest["tree_size"]]
            if not got:
                break
            between += got
            after = got[-1]["tree_size"]
        new = [*between, latest]
    problems: list[str] = []
    by_size = {c["tree_size"]: c for c in seen}
    for cp in new:
        size = cp["tree_size"]
        problems += check_checkpoint(cp, keys)
        if size in by_size and by_size[size]["root_hash"] != cp["root_hash"]:
            problems.append(f"FORK: two checkpoints of size {size} with different roots "
                            f"({by_size[size]['root_hash']} seen before, now {cp['root_hash']}):"
                            " the log is inconsistent with what was seen")
        elif last is not None and size < last["tree_size"]:
            problems.append(f"ROLLBACK: tree size went backwards from {last['tree_size']} "
                            f"to {size}: the log is inconsistent with what was seen")
        elif last is not None and size > last["tree_size"]:
            answer = client.get("/api/v1/transparency/consistency",
                                **{"from": last["tree_size"], "to": size}) or {}
            proof = [bytes.fromhex(h) for h in answer.get("proof", [])]
            if not verify_consistency(last["tree_size"], size, bytes.fromhex(last["root_hash"]),
                                      bytes.fromhex(cp["root_hash"]), proof):
                problems.append(f"FORK: checkpoint {size} is not an append-only extension of "
                                f"checkpoint {last['tree_size']} (consistency proof fails)")
        if problems:
            break
        if size not in by_size:
            seen.append({k: cp[k] for k in ("tree_size", "root_hash", "timestamp", "key_id",
                                            "signature", "note")})
            by_size[size] = cp
        last = cp if last is None or size >= last["tree_size"] else last
    if problems:
        state.setdefault("conflicts", []).append({"checkpoint": cp, "problems": problems})
    state_file.write_text(json.dumps(state, indent=2) + "\n")
    head = seen[-1]["tree_size"] if seen else 0
    text = (f"FAIL after checkpoint {head}:\n" + "\n".join(f"  - {p}" for p in problems)
            if problems else f"OK  log consistent up to tree size {head} "
                             f"({len(seen)} checkpoints remembered in {state_file})")
    return (1 if problems else 0), {"ok": not problems, "tree_size": head,
                                    "problems": problems}, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="the Pantau portal, e.g. https://…")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per HTTP request")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--pin", action="append", metavar="KEY_ID",
                        help="trust only this signing key id (repeatable; learnt out of band)")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify receipts against the log")
    verify.add_argument("receipts", nargs="+", metavar="RECEIPT")
    monitor = commands.add_parser("monitor", help="check the log only ever grows")
    monitor.add_argument("--state", required=True, help="JSON file of checkpoints seen")
    args = parser.parse_args(argv)
    try:
        client = Client(args.base_url, args.timeout)
        run = cmd_verify if args.command == "verify" else cmd_monitor
        code, report, text = run(client, args)
    except (Unreachable, KeyError, TypeError, ValueError) as exc:
        code, report, text = 2, {"ok": False, "error": str(exc)}, f"ERROR {exc}"
    sys.stdout.write((json.dumps(report, indent=2) if args.json else text) + "\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
