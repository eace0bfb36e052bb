"""The standalone verifier agrees with pantau_transparency — the library tracking writes the log
with — on leaves (any text hypothesis can make), proofs and signed checkpoints. The verifier
itself imports no Pantau code; only this test puts the two side by side."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_transparency import merkle
from pantau_transparency.checkpoint import sign_checkpoint
from pantau_transparency.keys import Signer, key_listing
from pantau_transparency.leaf import Leaf
from tests.unit.verifier.test_pantau_verify import pv

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


def pydantic_json(moment: datetime) -> str:
    """A time as the public API writes it (pydantic: Z, fraction only when non-zero)."""
    return moment.isoformat().replace("+00:00", "Z")


@settings(max_examples=300, deadline=None)
@given(seq=st.integers(1, 2**31), status=texts, stage=st.none() | texts, claimed=moments,
       received=moments, counted=moments, note=st.none() | texts, late=st.booleans())
def test_leaf_rebuilt_from_the_public_record_is_the_logged_leaf(
        seq: int, status: str, stage: str | None, claimed: datetime, received: datetime,
        counted: datetime, note: str | None, late: bool) -> None:
    logged = Leaf("BDG-PBG-2026-000001", seq, status, stage, claimed, received, note, late,
                  counted_at=counted).text()
    public_entry = {"seq": seq, "status": status, "stage_code": stage,
                    "at": pydantic_json(claimed), "received_at": pydantic_json(received),
                    "note": note, "late_reported": late, "counted_at": pydantic_json(counted),
                    "reporting_delay_days": 0, "working_days": 1.5}
    assert pv.expected_leaf("BDG-PBG-2026-000001", public_entry) == logged


def test_proofs_and_checkpoints_from_the_library_verify() -> None:
    tree = merkle.MemoryTree()
    for i in range(37):
        tree.append(f"leaf {i}".encode())
    signer = Signer(Ed25519PrivateKey.generate())
    keys = pv.keys_from(key_listing(signer.public_key, [Ed25519PrivateKey.generate().public_key()]))
    assert signer.key_id in keys and len(keys) == 2
    for size in (1, 2, 5, 16, 37):
        root = tree.root(size)
        cp = sign_checkpoint(signer, "pantau.test/transparency", size, root,
                             datetime(2026, 3, 20, 8, 0, tzinfo=UTC)).to_json()
        assert pv.check_checkpoint(cp, keys) == []
        for index in range(size):
            path = merkle.inclusion_proof(index, size, tree)
            assert pv.verify_inclusion(pv.leaf_hash(f"leaf {index}".encode()), index, size,
                                       path, root)
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, tree)
            assert pv.verify_consistency(first, size, tree.root(first), root, proof)


def test_the_monitors_compact_range_is_the_librarys() -> None:
    """The monitor keeps the same compact range the sequencer stores (frontier nodes)."""
    library = merkle.CompactRange()
    frontier: list[bytes] = []
    for i in range(70):
        hashed = merkle.leaf_hash(f"leaf {i}".encode())
        frontier = pv.frontier_append(i, frontier, hashed)
        library.append(hashed)
        assert frontier == library.hashes
        assert pv.frontier_root(frontier) == library.root()
    assert pv.frontier_root([]) == merkle.EMPTY_ROOT
