#!/usr/bin/env python3
"""Check a Pantau deployment's public transparency log yourself — no Pantau code involved.

Needs Python 3.11+ and the ``cryptography`` package (``pip install cryptography``). Two commands,
best run together — the monitor first, then verify with the same state file:

    python pantau_verify.py --base-url https://pantau.example.go.id monitor --state pantau.json
    python pantau_verify.py --base-url https://pantau.example.go.id verify --state pantau.json \
        BDG-PBG-2026-000123 ...

``monitor`` audits the whole log the way a Certificate Transparency monitor does. Its JSON state
file keeps every checkpoint seen, the RFC 9162 compact range of the leaves audited so far (one
hash per set bit of the tree size), an index (receipt, seq) -> leaf index of every logged entry
and the ids of the keys that signed checkpoints. Each run fetches the latest checkpoint and
those in between, checks their signatures, checks each new one against the last one seen with a
consistency proof (RFC 9162 §2.1.4.2), downloads every leaf added since
(``/api/v1/transparency/leaves``), recomputes the root itself and requires it to equal the
signed root — so it trusts neither the proofs nor the server's ``receipt_number`` columns. Two
leaves claiming the same receipt and seq fail (both leaf indexes named); a receipt whose seqs
are not 1, 2, 3… in leaf order and a checkpoint signed by a key id never seen before are
warnings (stderr; ``new_keys`` in ``--json``). Run it from cron; a rewrite of history (a fork,
the same size with another root, a size going backwards, leaves that do not hash to the signed
root, a second version of a logged entry) fails.

``verify`` fetches each case's proof (``/api/v1/cases/{receipt}/proof``) and then its public
record (``/api/v1/cases/{receipt}``), rebuilds every timeline entry's log leaf from the PUBLIC
record, compares it with the logged leaf, checks each audit path against the checkpoint's root
(RFC 9162 §2.1.3.2), and checks the checkpoint note and its Ed25519 signature against the
published keys (``/api/v1/transparency/key``). Entries logged but missing from the public
record, public entries never logged and entries ``pending`` (not yet in a checkpoint) for longer
than ``--max-pending-age`` (default 10 minutes, by their received time) fail. A recent entry
that is logged but not yet public (or public but not yet logged) is "not yet published, retry"
(exit 2), not tampering. With ``--state`` (the monitor's file) the proof's checkpoint must be
the monitor's latest one or consistent with it, so verify and monitor see the same log.

``--pin KEY_ID`` (repeatable) trusts only signing keys whose ids you learnt out of band (the
operator's announcement); without it, every key the server publishes is trusted.

Exit codes: 0 everything verified; 1 a verification failure (named: receipt + seq, or both tree
sizes, or both leaf indexes); 2 the server could not be reached or answered something unusable,
or an entry is too recent to check — retry (a persistent 2 is a finding of its own). ``--json``
prints a machine-readable report instead of the human summary.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LEAF_FIELDS = ("v", "receipt_number", "seq", "status", "stage_code", "claimed_at",
               "received_at", "counted_at", "note", "late_reported")
MAX_PENDING_AGE = 600.0  # seconds: how long an entry may be pending or not yet published
EMPTY_ROOT = hashlib.sha256(b"").digest()


def now() -> datetime:
    """The verifier's clock (UTC); the tests replace it."""
    return datetime.now(UTC)


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


def frontier_append(size: int, frontier: list[bytes], hashed: bytes) -> list[bytes]:
    """The compact range of ``D[0:size+1]`` from that of ``D[0:size]`` and one more leaf hash.

    The compact range (RFC 9162 §2.1.1 split into complete subtrees) of a tree of ``size`` leaves
    is one hash per set bit of ``size``, the largest subtree first: all a monitor needs to keep
    to compute every later root — O(log n) hashes, however large the log grows."""
    merged, current, index = list(frontier), hashed, size
    while index & 1:  # the subtree just completed is a right child: merge it with its sibling
        current = node_hash(merged.pop(), current)
        index >>= 1
    merged.append(current)
    return merged


def frontier_root(frontier: list[bytes]) -> bytes:
    """MTH of the tree whose compact range this is (right fold; the empty tree's hash)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


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
    return moment_of(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def moment_of(value: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; naive = UTC) as an aware UTC datetime."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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


def received_of(value: Any) -> datetime | None:
    """The received time of a logged leaf (its text) or a public timeline entry (a dict)."""
    try:
        item = json.loads(value) if isinstance(value, str) else value
        return moment_of(item["received_at"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def age(moment: datetime, at: datetime) -> str:
    seconds = max(0, int((at - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago" if seconds < 172800 else f"{seconds // 86400} days ago"


class MonitorHead:
    """``verify --state``: the latest checkpoint a monitor holds; every proof's checkpoint must
    be that one or consistent with it (one consistency proof per checkpoint, cached)."""

    def __init__(self, path: str) -> None:
        try:
            state = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise Unreachable(f"no monitor state at {path}: run `monitor --state {path}` "
                              "first") from None
        except (OSError, ValueError) as exc:
            raise Unreachable(f"cannot read the monitor state {path}: {exc}") from exc
        seen = state.get("checkpoints") or [] if isinstance(state, dict) else []
        if not seen:
            raise Unreachable(f"the monitor state {path} holds no checkpoint yet: run monitor "
                              "first")
        self.path = path
        self.checkpoint: dict[str, Any] = seen[-1]
        self._checked: dict[tuple[int, str], list[str]] = {}

    def problems(self, client: Client, cp: dict[str, Any]) -> list[str]:
        size, root = int(cp["tree_size"]), str(cp["root_hash"])
        if (size, root) not in self._checked:
            self._checked[(size, root)] = self._check(client, size, root)
        return self._checked[(size, root)]

    def _check(self, client: Client, size: int, root: str) -> list[str]:
        held, held_root = int(self.checkpoint["tree_size"]), str(self.checkpoint["root_hash"])
        if size == held:
            ok = root == held_root
        else:
            (first, first_root), (second, second_root) = sorted(
                [(size, root), (held, held_root)])
            answer = client.get("/api/v1/transparency/consistency",
                                **{"from": first, "to": second}) or {}
            ok = verify_consistency(first, second, bytes.fromhex(first_root),
                                    bytes.fromhex(second_root),
                                    [bytes.fromhex(h) for h in answer.get("proof", [])])
        if ok:
            return []
        return [f"checkpoint {size} is not consistent with checkpoint {held} that the monitor "
                f"holds ({self.path}): this server shows you a different log than it showed "
                "the monitor (split view)"]


def verify_receipt(client: Client, keys: dict[str, Ed25519PublicKey], receipt: str,
                   max_age: timedelta = timedelta(seconds=MAX_PENDING_AGE),
                   head: MonitorHead | None = None) -> dict[str, Any]:
    """One case. The proof first, then the public record: an entry logged in between is then in
    both, and an entry logged but not yet public is recent (``retry``) — or a finding."""
    path = "/api/v1/cases/" + urllib.parse.quote(receipt, safe="")
    proof = client.get(path + "/proof")
    if proof is None:
        return {"receipt": receipt, "ok": False, "status": "fail", "retry": [],
                "problems": [f"{receipt}: no proof published"]}
    case = client.get(path)
    moment = now()

    def recent(received: datetime | None) -> bool:
        return received is not None and moment - received <= max_age

    problems: list[str] = []
    retry: list[str] = []
    cp = proof["checkpoint"]
    problems += [f"{receipt}: {p}" for p in check_checkpoint(cp, keys)]
    if head is not None:
        problems += [f"{receipt}: {p}" for p in head.problems(client, cp)]
    root, size = bytes.fromhex(cp["root_hash"]), int(cp["tree_size"])
    timeline = {e["seq"]: e for e in (case or {}).get("timeline", [])}
    logged: set[int] = set()
    for entry in proof.get("entries", []):
        seq, index = entry["seq"], entry["leaf_index"]
        logged.add(seq)
        where = f"{receipt} seq {seq} (leaf {index})"
        if seq not in timeline:
            received = received_of(entry["leaf"])
            if recent(received):
                assert received is not None
                retry.append(f"{where}: logged (received {age(received, moment)}) but not yet "
                             "in the public record: not yet published, retry")
            else:
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
    pending = set(proof.get("pending", [])) - logged
    last_logged = max(logged, default=0)
    limit = int(max_age.total_seconds())
    for seq in sorted(pending):
        where = f"{receipt} seq {seq} (pending)"
        if seq < last_logged:  # a case's entries are logged in seq order
            problems.append(f"{where}: not in checkpoint {size} although the later seq "
                            f"{last_logged} is")
        if seq not in timeline:
            retry.append(f"{where}: logged after checkpoint {size} and not yet in the public "
                         "record: not yet published, retry")
            continue
        received = received_of(timeline[seq])
        if not recent(received):
            when = f"received {age(received, moment)}" if received else "no received time"
            problems.append(f"{where}: still not in a signed checkpoint ({when}; at most "
                            f"{limit} s expected)")
    for seq in sorted(set(timeline) - logged - pending):
        received = received_of(timeline[seq])
        if recent(received):
            assert received is not None
            retry.append(f"{receipt} seq {seq}: in the public record (received "
                         f"{age(received, moment)}) but not yet logged: retry")
        else:
            problems.append(f"{receipt} seq {seq}: in the public record but not logged")
    if case is None:
        (problems if problems or not retry else retry).insert(0, f"{receipt}: no public record")
    status = "fail" if problems else "retry" if retry else "ok"
    return {"receipt": receipt, "ok": status == "ok", "status": status, "tree_size": size,
            "root_hash": cp["root_hash"], "logged": sorted(logged),
            "pending": sorted(pending), "problems": problems, "retry": retry}


def cmd_verify(client: Client, args: argparse.Namespace) -> tuple[int, dict[str, Any], str]:
    if args.max_pending_age < 0:
        raise Unreachable("--max-pending-age must not be negative")
    head = MonitorHead(args.state) if args.state else None
    keys = load_keys(client, args.pin)
    max_age = timedelta(seconds=args.max_pending_age)
    results = [verify_receipt(client, keys, r, max_age, head) for r in args.receipts]
    lines = []
    for r in results:
        extra = f", {len(r['pending'])} pending" if r.get("pending") else ""
        verdict = {"ok": "OK   ", "fail": "FAIL ", "retry": "RETRY"}[r["status"]]
        lines.append(f"{verdict} {r['receipt']}: {len(r.get('logged', []))} entries logged"
                     f"{extra}" + (f" (checkpoint {r['tree_size']}, root {r['root_hash'][:16]}…)"
                                   if "tree_size" in r else ""))
        lines += [f"      - {p}" for p in r["problems"] + r["retry"]]
    failed = sum(r["status"] == "fail" for r in results)
    waiting = sum(r["status"] == "retry" for r in results)
    verified = len(results) - failed - waiting
    lines.append(f"{verified} of {len(results)} receipts verified"
                 + (f"; {failed} FAILED" if failed else "")
                 + (f"; {waiting} not yet published — retry in a few minutes" if waiting else "")
                 + (f" (consistent with the monitor's checkpoint "
                    f"{head.checkpoint['tree_size']})" if head is not None else ""))
    report: dict[str, Any] = {"ok": not failed and not waiting, "receipts": results}
    if head is not None:
        report["monitor_tree_size"] = head.checkpoint["tree_size"]
    return (1 if failed else 2 if waiting else 0), report, "\n".join(lines)


# --- monitor ----------------------------------------------------------------------------------

def leaf_claim(text: str) -> tuple[str, int] | None:
    """The (receipt_number, seq) a logged leaf claims — from the hashed leaf itself."""
    try:
        item = json.loads(text)
    except ValueError:
        return None
    if not isinstance(item, dict):
        return None
    receipt, seq = item.get("receipt_number"), item.get("seq")
    if not isinstance(receipt, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return receipt, seq


class LogAudit:
    """What ``monitor`` keeps of the leaves it has hashed: the compact range of ``D[0:size]``
    and the index (receipt, seq) -> leaf index (state file key ``audit``)."""

    def __init__(self, saved: dict[str, Any] | None) -> None:
        saved = saved or {}
        self.size = int(saved.get("tree_size", 0))
        self.frontier = [bytes.fromhex(h) for h in saved.get("frontier", [])]
        if len(self.frontier) != self.size.bit_count():
            raise Unreachable(f"the state's audit has {len(self.frontier)} frontier hashes for "
                              f"tree size {self.size}: the state file is damaged")
        self.index: dict[str, dict[str, int]] = saved.get("entries", {})

    def to_state(self) -> dict[str, Any]:
        return {"tree_size": self.size, "frontier": [h.hex() for h in self.frontier],
                "entries": self.index}

    def _last(self, receipt: str, added: dict[str, dict[str, int]]) -> int | None:
        """The receipt's seq logged last (highest leaf index) so far."""
        both = {**self.index.get(receipt, {}), **added.get(receipt, {})}
        return int(max(both, key=lambda s: both[s])) if both else None

    def extend_to(self, client: Client, cp: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Download leaves ``size..cp.tree_size``, hash them into the compact range and check the
        root is the checkpoint's; (problems, warnings). Committed only without problems."""
        target, start = int(cp["tree_size"]), self.size
        size, frontier = start, list(self.frontier)
        added: dict[str, dict[str, int]] = {}
        problems: list[str] = []
        warnings: list[str] = []
        while size < target:
            page = client.get("/api/v1/transparency/leaves", start=size, end=target)
            if not isinstance(page, dict):
                raise Unreachable("no /api/v1/transparency/leaves on this server (a monitor "
                                  f"hashes every leaf; needed up to tree size {target})")
            items = page.get("leaves") or []
            if not items:
                raise Unreachable(f"the server served no leaves from {size} (checkpoint "
                                  f"{target} covers them)")
            for item in items[:target - size]:
                if item.get("leaf_index") != size:
                    raise Unreachable(f"leaf {item.get('leaf_index')} served where leaf {size} "
                                      "was asked for")
                text = item["leaf"]
                frontier = frontier_append(size, frontier, leaf_hash(text.encode("utf-8")))
                claim = leaf_claim(text)
                if claim is None:
                    problems.append(f"leaf {size} is not a Pantau leaf (no receipt_number and "
                                    "seq)")
                else:
                    problems += self._claim(claim, size, added, warnings)
                size += 1
        if frontier_root(frontier).hex() != str(cp["root_hash"]).lower():
            problems.append(f"INCONSISTENT: the leaves served from {start} to {target} do not "
                            f"hash to the root of checkpoint {target}: the log is inconsistent "
                            "with its own signed checkpoint")
        if not problems:
            self.size, self.frontier = size, frontier
            for receipt, seqs in added.items():
                self.index.setdefault(receipt, {}).update(seqs)
        return problems, warnings

    def _claim(self, claim: tuple[str, int], index: int, added: dict[str, dict[str, int]],
               warnings: list[str]) -> list[str]:
        receipt, seq = claim
        other = self.index.get(receipt, {}).get(str(seq), added.get(receipt, {}).get(str(seq)))
        if other is not None:
            return [f"DUPLICATE: leaves {other} and {index} both claim {receipt} seq {seq}: the "
                    "log holds two versions of one public entry (a rewritten entry appended "
                    "under a relabelled old one)"]
        last = self._last(receipt, added)
        expected = 1 if last is None else last + 1
        if seq != expected:
            after = "as its first entry" if last is None else f"after seq {last}"
            warnings.append(f"{receipt} seq {seq} is logged at leaf {index} {after} (expected "
                            f"seq {expected}): its seqs are not 1..N in leaf order")
        added.setdefault(receipt, {})[str(seq)] = index
        return []


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"checkpoints": []}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise Unreachable(f"cannot read the state file {path}: {exc}") from exc
    if not isinstance(state, dict) or not isinstance(state.get("checkpoints"), list):
        raise Unreachable(f"{path} is not a monitor state file")
    return state


def new_checkpoints(client: Client, last: dict[str, Any] | None,
                    latest: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest checkpoint and every one between the last seen and it, ascending."""
    if last is None or latest["tree_size"] <= last["tree_size"]:
        return [latest]
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
    return [*between, latest]


def cmd_monitor(client: Client, args: argparse.Namespace) -> tuple[int, dict[str, Any], str]:
    state_file = Path(args.state)
    state = load_state(state_file)
    seen: list[dict[str, Any]] = state["checkpoints"]
    known_keys: list[str] = state.get("keys_seen") or list(dict.fromkeys(
        c["key_id"] for c in seen))
    audit = LogAudit(state.get("audit"))
    keys = load_keys(client, args.pin)
    latest = client.get("/api/v1/transparency/checkpoints/latest")
    if latest is None:
        return 0, {"ok": True, "new": 0, "problems": [], "warnings": [], "new_keys": []}, \
            "no checkpoint published yet"
    last = seen[-1] if seen else None
    problems: list[str] = []
    warnings: list[str] = []
    new_keys: list[str] = []
    # Checkpoints remembered from before the monitor hashed leaves: audit them first.
    cp: dict[str, Any] = latest
    for cp in seen:
        if cp["tree_size"] > audit.size:
            found, noted = audit.extend_to(client, cp)
            problems += found
            warnings += noted
            if problems:
                break
    by_size = {c["tree_size"]: c for c in seen}
    for cp in [] if problems else new_checkpoints(client, last, latest):
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
        if not problems and size > audit.size:
            found, noted = audit.extend_to(client, cp)
            problems += found
            warnings += noted
        if problems:
            break
        if cp["key_id"] not in known_keys:
            known_keys.append(cp["key_id"])
            new_keys.append(cp["key_id"])
            warnings.append(f"checkpoint {size} is signed by key {cp['key_id']}, which this "
                            "monitor has not seen before: check that the operator announced it "
                            "(out of band), then pin the announced keys with --pin")
        if size not in by_size:
            seen.append({k: cp[k] for k in ("tree_size", "root_hash", "timestamp", "key_id",
                                            "signature", "note")})
            by_size[size] = cp
        last = cp if last is None or size >= last["tree_size"] else last
    if problems:
        state.setdefault("conflicts", []).append({"checkpoint": cp, "problems": problems})
    state["keys_seen"] = known_keys
    state["audit"] = audit.to_state()
    state_file.write_text(json.dumps(state, indent=2) + "\n")
    head = seen[-1]["tree_size"] if seen else 0
    text = (f"FAIL after checkpoint {head}:\n" + "\n".join(f"  - {p}" for p in problems)
            if problems else f"OK  log consistent up to tree size {head}: {audit.size} leaves "
                             f"hashed, {len(seen)} checkpoints remembered in {state_file}")
    return (1 if problems else 0), {"ok": not problems, "tree_size": head,
                                    "leaves_audited": audit.size, "problems": problems,
                                    "warnings": warnings, "new_keys": new_keys}, text


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
    verify.add_argument("--state", metavar="FILE",
                        help="the monitor's state file: the proofs' checkpoints must be "
                             "consistent with its latest checkpoint (run monitor first)")
    verify.add_argument("--max-pending-age", type=float, default=MAX_PENDING_AGE,
                        metavar="SECONDS",
                        help="how long after its received time an entry may be pending or "
                             f"not yet published (default {MAX_PENDING_AGE:.0f})")
    monitor = commands.add_parser("monitor", help="audit the log: it only ever grows")
    monitor.add_argument("--state", required=True, help="JSON file of what the monitor saw")
    args = parser.parse_args(argv)
    try:
        client = Client(args.base_url, args.timeout)
        run = cmd_verify if args.command == "verify" else cmd_monitor
        code, report, text = run(client, args)
    except (Unreachable, KeyError, TypeError, ValueError) as exc:
        code, report, text = 2, {"ok": False, "error": str(exc)}, f"ERROR {exc}"
    for warning in report.get("warnings", []):
        sys.stderr.write(f"WARNING {warning}\n")
    sys.stdout.write((json.dumps(report, indent=2) if args.json else text) + "\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
