"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification, from stored subtree hashes.

Contract
--------
* ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``;
  ``MTH({}) = SHA-256()``; for ``n > 1`` the tree splits at ``k``, the largest power of two
  smaller than ``n`` (RFC 9162 §2.1.1).
* The store keeps every *complete aligned subtree*: node ``(level, index)`` is
  ``MTH(D[index·2^level : (index+1)·2^level])``; level 0 holds the leaf hashes. A node, once
  complete, never changes, so a store for size ``N`` answers for every size ``n <= N``. Every
  range in RFC 9162's recursion (``D[0:n]`` and its right-hand parts) is a left-to-right run of
  such nodes, so ``MTH`` of the range is a right fold over at most ``log2(n)`` stored hashes.
* ``inclusion_proof(m, n, reader)`` is ``PATH(m, D[n])`` (§2.1.3.1) and
  ``consistency_proof(m, n, reader)`` is ``PROOF(m, D[n])`` (§2.1.4.1), both as lists of
  32-byte hashes in the RFC's order. Each reads all its nodes in one ``reader.get_many`` call;
  ``*_nodes`` functions list those positions so a caller can fetch several proofs' nodes at once
  and answer them from a ``MemoryNodes``.
* ``verify_inclusion`` and ``verify_consistency`` are the RFC's client algorithms (§2.1.3.2,
  §2.1.4.2) and return ``bool``; malformed input (bad sizes, hashes that are not 32 bytes) is
  ``False``, never an exception. ``verify_consistency`` also accepts the trivial cases
  ``first == 0`` and ``first == second`` with an empty proof (roots equal for the latter).
* ``CompactRange`` appends leaves: from the frontier of size ``n`` (the ``frontier_nodes(n)``)
  it returns, per appended leaf, the new complete nodes to store, and gives the root.

Why not a library: pymerkle (the Python package the brief pointed at) computes RFC 9162 roots, and
its inclusion path is the RFC's PATH with the leaf prepended and a "rule" bit list, but its
consistency proof is its own format: it splits with ``m < k`` where RFC 9162 uses ``m <= k``
(for ``m=2, n=3`` it returns two hashes where the RFC returns one) and carries a "subset" mask.
It also keeps its own tree storage. The RFC algorithms over our stored nodes fit in this module;
the tests check it against a naive recursive reference, pymerkle's roots and inclusion paths,
and Certificate Transparency's known vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Position = tuple[int, int]  # (level, index)


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeReader(Protocol):
    """Read access to stored complete subtree hashes. A missing node raises ``KeyError``."""

    def get(self, level: int, index: int) -> bytes: ...

    def get_many(self, positions: Iterable[Position]) -> Mapping[Position, bytes]:
        """All of ``positions`` in one round trip (a missing one raises ``KeyError``)."""
        ...


class MemoryNodes:
    """A ``NodeReader`` over a dict; also the cache a caller fills with one batched read."""

    def __init__(self, nodes: Mapping[Position, bytes] | None = None) -> None:
        self.nodes: dict[Position, bytes] = dict(nodes or {})

    def get(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def get_many(self, positions: Iterable[Position]) -> dict[Position, bytes]:
        return {p: self.nodes[p] for p in positions}


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Position]:
    """The stored nodes, left to right, whose right fold is ``MTH(D[start:end])``.

    Valid for the ranges of RFC 9162's recursion: ``start`` is a multiple of the largest power
    of two not exceeding ``end - start`` (raises ``ValueError`` otherwise).
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    positions = []
    position, width = start, end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            if position % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned")
            positions.append((level, position >> level))
            position += 1 << level
    return positions


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold with ``node_hash``: ``h0, h1, h2`` -> ``H(h0, H(h1, h2))``."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _range_hash(start: int, end: int, nodes: Mapping[Position, bytes]) -> bytes:
    return fold([nodes[p] for p in range_nodes(start, end)])


def frontier_nodes(size: int) -> list[Position]:
    """The compact range of ``D[0:size]``: one node per set bit of ``size``, left to right."""
    return range_nodes(0, size) if size else []


def root(size: int, reader: NodeReader) -> bytes:
    """``MTH(D[0:size])`` from stored nodes (``EMPTY_ROOT`` for size 0)."""
    if size < 0:
        raise ValueError("negative tree size")
    if size == 0:
        return EMPTY_ROOT
    nodes = reader.get_many(frontier_nodes(size))
    return _range_hash(0, size, nodes)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form ``PATH(index, D[size])``, in the RFC's (bottom-up) order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form ``PROOF(first, D[second])``, in the RFC's order."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first == 0 or first == second:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, second, first, True
    # SUBPROOF(m, D[start:end], complete); each step appends one sibling *after* the subproof,
    # so collect them top-down and reverse at the end.
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def _positions(ranges: Iterable[tuple[int, int]]) -> list[Position]:
    seen: dict[Position, None] = {}
    for start, end in ranges:
        for p in range_nodes(start, end):
            seen[p] = None
    return list(seen)


def inclusion_nodes(index: int, size: int) -> list[Position]:
    """The stored nodes ``inclusion_proof(index, size, ...)`` reads."""
    return _positions(_inclusion_ranges(index, size))


def consistency_nodes(first: int, second: int) -> list[Position]:
    """The stored nodes ``consistency_proof(first, second, ...)`` reads."""
    return _positions(_consistency_ranges(first, second))


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """``PATH(index, D[size])`` (RFC 9162 §2.1.3.1); ``ValueError`` unless ``0 <= index < size``."""
    ranges = _inclusion_ranges(index, size)
    nodes = reader.get_many(_positions(ranges))
    return [_range_hash(s, e, nodes) for s, e in ranges]


def consistency_proof(first: int, second: int, reader: NodeReader) -> list[bytes]:
    """``PROOF(first, D[second])`` (RFC 9162 §2.1.4.1); empty when ``first`` is 0 or equal to
    ``second``; ``ValueError`` unless ``0 <= first <= second``."""
    ranges = _consistency_ranges(first, second)
    nodes = reader.get_many(_positions(ranges))
    return [_range_hash(s, e, nodes) for s, e in ranges]


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes | bytearray) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion_proof(index: int, size: int, leaf: bytes,
                              proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` leads to from leaf hash ``leaf`` (RFC 9162 §2.1.3.2 steps 1-4),
    or ``None`` when the proof cannot be valid for (``index``, ``size``)."""
    if not (0 <= index < size) or not _well_formed(leaf, *proof):
        return None
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2: is leaf hash ``leaf`` at ``index`` of the tree of ``size`` with
    ``root_hash``?"""
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    return computed is not None and _well_formed(root_hash) and computed == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (``second``, ``second_root``) an append-only extension of
    (``first``, ``first_root``)?"""
    if not (0 <= first <= second) or not _well_formed(first_root, second_root, *proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, bytes(first_root))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class CompactRange:
    """The frontier of ``D[0:size]``; ``append`` returns the nodes to store for one more leaf.

    ``CompactRange.load(size, reader)`` reads the frontier (one ``get_many``). After
    ``append(h)`` the range describes ``size + 1`` leaves; the returned list holds
    ``(level, index, hash)`` for the leaf itself and every subtree it completes.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} frontier nodes")
        self.size = size
        self.hashes: list[bytes] = list(hashes)  # left to right: highest level first

    @classmethod
    def load(cls, size: int, reader: NodeReader) -> CompactRange:
        positions = frontier_nodes(size)
        nodes = reader.get_many(positions)
        return cls(size, [nodes[p] for p in positions])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        index = self.size
        new = [(0, index, leaf)]
        current, level = leaf, 0
        while index >> level & 1:  # the node just made is a right child: complete its parent
            current = node_hash(self.hashes.pop(), current)
            level += 1
            new.append((level, index >> level, current))
        self.hashes.append(current)
        self.size += 1
        return new

    def root(self) -> bytes:
        return fold(self.hashes) if self.hashes else EMPTY_ROOT


class MemoryTree(MemoryNodes):
    """An in-memory log: appends leaves (raw bytes) and stores every complete node."""

    def __init__(self) -> None:
        super().__init__()
        self.range = CompactRange()

    @property
    def size(self) -> int:
        return self.range.size

    def append(self, data: bytes) -> int:
        """Append one leaf; returns its index."""
        for level, index, value in self.range.append(leaf_hash(data)):
            self.nodes[(level, index)] = value
        return self.range.size - 1

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else size, self)
