"""``pantau_transparency.merkle`` against a naive recursive RFC 9162 §2.1 reference, pymerkle's
roots and inclusion paths, and Certificate Transparency's known vectors."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_transparency.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryNodes,
    MemoryTree,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_nodes,
    root,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

MAX = 70


# --- the reference: RFC 9162 §2.1 transcribed literally (lists of leaf data) -----------------

def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(data: tuple[bytes, ...]) -> bytes:
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = _k(len(data))
    return hashlib.sha256(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:])).digest()


ref_mth = lru_cache(maxsize=None)(ref_mth)  # type: ignore[assignment]


def ref_path(m: int, data: tuple[bytes, ...]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return ref_path(m, data[:k]) + [ref_mth(data[k:])]
    return ref_path(m - k, data[k:]) + [ref_mth(data[:k])]


def ref_subproof(m: int, data: tuple[bytes, ...], b: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if b else [ref_mth(data)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, data[:k], b) + [ref_mth(data[k:])]
    return ref_subproof(m - k, data[k:], False) + [ref_mth(data[:k])]


def ref_proof(m: int, data: tuple[bytes, ...]) -> list[bytes]:
    return ref_subproof(m, data, True)


def build(data: tuple[bytes, ...]) -> MemoryTree:
    tree = MemoryTree()
    for item in data:
        tree.append(item)
    return tree


DATA = tuple(f"leaf {i}".encode() for i in range(MAX))
TREE = build(DATA)


# --- exhaustive structure up to MAX leaves ---------------------------------------------------

def test_roots_match_the_reference_for_every_size() -> None:
    assert root(0, TREE) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for n in range(MAX + 1):
        assert root(n, TREE) == ref_mth(DATA[:n]), n


def test_inclusion_paths_match_and_verify_for_every_leaf_and_size() -> None:
    for n in range(1, MAX + 1):
        top = ref_mth(DATA[:n])
        for m in range(n):
            path = inclusion_proof(m, n, TREE)
            assert path == ref_path(m, DATA[:n]), (m, n)
            assert set(inclusion_nodes(m, n)) <= set(TREE.nodes)
            assert verify_inclusion(m, n, leaf_hash(DATA[m]), path, top)
            assert not verify_inclusion(m, n, leaf_hash(b"other"), path, top)
            if n > 1:
                assert not verify_inclusion((m + 1) % n, n, leaf_hash(DATA[m]), path, top)


def test_consistency_proofs_match_and_verify_for_every_pair() -> None:
    for n in range(1, MAX + 1):
        new = ref_mth(DATA[:n])
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, TREE)
            old = ref_mth(DATA[:m])
            assert proof == (ref_proof(m, DATA[:n]) if m < n else []), (m, n)
            assert set(consistency_nodes(m, n)) <= set(TREE.nodes)
            assert verify_consistency(m, n, old, new, proof), (m, n)
            if m < n:
                assert not verify_consistency(m, n, new, new, proof)
                assert not verify_consistency(m, n, old, old, proof)


def test_compact_range_stores_exactly_the_complete_aligned_subtrees() -> None:
    for n in range(MAX + 1):
        tree = build(DATA[:n])
        expected = {(level, index) for level in range(8) for index in range(n >> level)}
        assert set(tree.nodes) == expected
        for level, index in expected:
            width = 1 << level
            assert tree.nodes[(level, index)] == ref_mth(DATA[index * width:(index + 1) * width])
        assert tree.range.root() == ref_mth(DATA[:n])
        again = CompactRange.load(n, tree)
        assert again.root() == tree.range.root() and again.size == n


def test_range_nodes_refuses_unaligned_ranges() -> None:
    assert range_nodes(8, 13) == [(2, 2), (0, 12)]
    with pytest.raises(ValueError):
        range_nodes(2, 6)
    with pytest.raises(ValueError):
        range_nodes(3, 3)


def test_bad_requests_raise() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(5, 5, TREE)
    with pytest.raises(ValueError):
        inclusion_proof(-1, 5, TREE)
    with pytest.raises(ValueError):
        consistency_proof(6, 5, TREE)
    with pytest.raises(KeyError):
        inclusion_proof(0, MAX + 1, TREE)  # nodes beyond the stored tree are missing
    assert consistency_proof(0, 7, TREE) == []
    assert consistency_proof(7, 7, TREE) == []


def test_one_batched_read_per_proof() -> None:
    class Counting(MemoryNodes):
        calls = 0

        def get_many(self, positions):  # type: ignore[no-untyped-def]
            Counting.calls += 1
            return super().get_many(positions)

    reader = Counting(TREE.nodes)
    inclusion_proof(17, 63, reader)
    consistency_proof(17, 63, reader)
    root(63, reader)
    assert Counting.calls == 3


# --- hypothesis: random data, random sizes, tampering ----------------------------------------

leaves_st = st.lists(st.binary(max_size=12), min_size=1, max_size=MAX).map(tuple)


@settings(max_examples=150, deadline=None)
@given(data=leaves_st, picks=st.data())
def test_random_trees_against_the_reference(data: tuple[bytes, ...], picks: st.DataObject) -> None:
    tree = build(data)
    n = picks.draw(st.integers(1, len(data)))
    m = picks.draw(st.integers(0, n - 1))
    assert root(n, tree) == ref_mth(data[:n])
    path = inclusion_proof(m, n, tree)
    assert path == ref_path(m, data[:n])
    assert verify_inclusion(m, n, leaf_hash(data[m]), path, ref_mth(data[:n]))
    first = picks.draw(st.integers(1, n))
    proof = consistency_proof(first, n, tree)
    assert proof == (ref_proof(first, data[:n]) if first < n else [])
    assert verify_consistency(first, n, ref_mth(data[:first]), ref_mth(data[:n]), proof)


@settings(max_examples=150, deadline=None)
@given(data=leaves_st, picks=st.data())
def test_any_single_change_breaks_the_proofs(data: tuple[bytes, ...],
                                             picks: st.DataObject) -> None:
    tree = build(data)
    n = len(data)
    top = ref_mth(data)
    m = picks.draw(st.integers(0, n - 1))
    path = inclusion_proof(m, n, tree)
    if path:
        i = picks.draw(st.integers(0, len(path) - 1))
        bit = picks.draw(st.integers(0, 255))
        bad = list(path)
        bad[i] = bytes([bad[i][0] ^ (1 << (bit % 8))]) + bad[i][1:]
        assert not verify_inclusion(m, n, leaf_hash(data[m]), bad, top)
        assert not verify_inclusion(m, n, leaf_hash(data[m]), path[:-1], top)
    assert not verify_inclusion(m, n, leaf_hash(data[m]), path + [top], top)
    assert not verify_inclusion(m, n, leaf_hash(data[m]) [:31], path, top)
    first = picks.draw(st.integers(1, n))
    proof = consistency_proof(first, n, tree)
    old = ref_mth(data[:first])
    if first < n:
        # Rewriting one old leaf: the new tree cannot be proven consistent with the old root.
        changed = list(data)
        victim = picks.draw(st.integers(0, first - 1))
        changed[victim] = changed[victim] + b"!"
        forged = build(tuple(changed))
        forged_proof = consistency_proof(first, n, forged)
        assert not verify_consistency(first, n, old, ref_mth(tuple(changed)), forged_proof)
        assert not verify_consistency(first, n, old, top, proof[:-1])
        assert not verify_consistency(first, n, old, top, proof + [old])
        assert not verify_consistency(first, n, old, top, [])
        assert not verify_consistency(first - 1 if first > 1 else first + 1, n, old, top, proof)


# --- pymerkle as an independent implementation (roots; inclusion paths) -----------------------

def test_roots_and_inclusion_paths_agree_with_pymerkle() -> None:
    other = pymerkle.InmemoryTree(algorithm="sha256")
    for item in DATA:
        other.append_entry(item)
    for n in range(1, MAX + 1):
        assert other.get_root(n) == root(n, TREE)
        for m in range(0, n, 3):
            theirs = other.prove_inclusion(m + 1, n)  # pymerkle counts leaves from 1
            assert theirs.path[0] == leaf_hash(DATA[m])
            assert theirs.path[1:] == inclusion_proof(m, n, TREE)


def test_pymerkle_consistency_proofs_are_not_rfc_9162() -> None:
    """Why merkle.py has its own PROOF: pymerkle's differs (m == k takes the other branch)."""
    other = pymerkle.InmemoryTree(algorithm="sha256")
    for item in DATA[:3]:
        other.append_entry(item)
    assert len(other.prove_consistency(2, 3).path) == 2
    assert len(consistency_proof(2, 3, TREE)) == 1 == len(ref_proof(2, DATA[:3]))


# --- Certificate Transparency's vectors (RFC 6962 hashing = RFC 9162 §2.1) --------------------
# Leaves, roots and proofs from the CT reference test data (transparency-dev/merkle).

CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                        "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
CT_INCLUSION = [  # (leaf index from 0, tree size, path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]
CT_CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CT_TREE = build(tuple(CT_LEAVES))


def test_ct_roots() -> None:
    for n, expected in enumerate(CT_ROOTS, start=1):
        assert root(n, CT_TREE) == expected


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert inclusion_proof(index, size, CT_TREE) == expected
    assert verify_inclusion(index, size, leaf_hash(CT_LEAVES[index]), expected,
                            CT_ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY)
def test_ct_consistency_vectors(first: int, second: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in proof]
    assert consistency_proof(first, second, CT_TREE) == expected
    assert verify_consistency(first, second, CT_ROOTS[first - 1], CT_ROOTS[second - 1],
                              expected)


def test_verifier_edge_cases() -> None:
    some = hashlib.sha256(b"x").digest()
    # Inclusion: impossible indexes and sizes, wrong hash lengths.
    for index, size in ((0, 0), (1, 0), (2, 1), (-1, 3)):
        assert not verify_inclusion(index, size, some, [], some)
    assert verify_inclusion(0, 1, some, [], some)
    assert not verify_inclusion(0, 1, some, [], some[:31])
    assert not verify_inclusion(0, 1, b"", [], b"")
    assert root_from_inclusion_proof(0, 2, some, [b"short"]) is None
    # Consistency: trivial cases, time travel, a non-empty proof where none is due.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, some, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, some, [some])
    assert verify_consistency(3, 3, some, some, [])
    assert not verify_consistency(3, 3, some, EMPTY_ROOT, [])
    assert not verify_consistency(3, 3, some, some, [some])
    assert not verify_consistency(2, 1, some, some, [])
    assert not verify_consistency(1, 2, some, some, [])
    assert node_hash(some, some) != node_hash(some, EMPTY_ROOT)
