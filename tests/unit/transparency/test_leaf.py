"""The canonical leaf: exact keys, RFC 8785 bytes, and the standalone verifier's json.dumps
equivalence (it canonicalises with the standard library only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau_contracts.envelope import format_time as contracts_format_time
from pantau_transparency.leaf import LEAF_KEYS, Leaf, LeafError, canonical_leaf, parse_leaf
from pantau_transparency.merkle import leaf_hash

T0 = datetime(2026, 10, 5, 3, 41, 7, 123456, tzinfo=UTC)


def sample(**changes: object) -> Leaf:
    values: dict[str, object] = dict(
        receipt_number="BDG-PBG-2026-000123", seq=3, status="in_review",
        stage_code="verifikasi", claimed_at=T0, received_at=T0 + timedelta(hours=2),
        counted_at=T0 + timedelta(hours=1), note="Berkas lengkap — diteruskan ke Kepala Bidang",
        late_reported=False)
    values.update(changes)
    return Leaf(**values)  # type: ignore[arg-type]


def test_exact_bytes() -> None:
    assert sample().canonical() == (
        '{"claimed_at":"2026-10-05T03:41:07.123456Z","counted_at":"2026-10-05T04:41:07.123456Z",'
        '"late_reported":false,'
        '"note":"Berkas lengkap — diteruskan ke Kepala Bidang",'
        '"receipt_number":"BDG-PBG-2026-000123","received_at":"2026-10-05T05:41:07.123456Z",'
        '"seq":3,"stage_code":"verifikasi","status":"in_review","v":1}').encode()
    assert sample().hash() == leaf_hash(sample().canonical())
    assert set(json.loads(sample().text())) == set(LEAF_KEYS)


def test_nulls_and_time_zones() -> None:
    wib = timezone(timedelta(hours=7))
    leaf = sample(stage_code=None, note=None, late_reported=True,
                  claimed_at=datetime(2026, 10, 5, 10, 41, 7, tzinfo=wib))
    obj = json.loads(leaf.text())
    assert obj["stage_code"] is None and obj["note"] is None and obj["late_reported"] is True
    assert obj["claimed_at"] == "2026-10-05T03:41:07.000000Z"
    assert obj["claimed_at"] == contracts_format_time(leaf.claimed_at)
    assert canonical_leaf(*[getattr(leaf, f) for f in (
        "receipt_number", "seq", "status", "stage_code", "claimed_at", "received_at", "note",
        "late_reported")], counted_at=leaf.counted_at) == leaf.text()


def test_counted_at_is_a_required_keyword_committed_to_by_the_leaf() -> None:
    """The time the service clock counts is in the leaf: moving it changes the leaf's hash."""
    leaf = sample(counted_at=datetime(2026, 10, 6, 10, 0, tzinfo=timezone(timedelta(hours=7))))
    assert json.loads(leaf.text())["counted_at"] == "2026-10-06T03:00:00.000000Z"
    assert leaf.hash() != sample(counted_at=T0).hash()
    assert LEAF_KEYS.index("counted_at") == LEAF_KEYS.index("received_at") + 1
    with pytest.raises(TypeError):  # no default: a caller cannot forget it
        Leaf("BDG-PBG-2026-000123", 3, "in_review", None, T0, T0, None, False)  # type: ignore[call-arg]
    with pytest.raises(TypeError):  # and never positional (three times in a row)
        Leaf("BDG-PBG-2026-000123", 3, "in_review", None, T0, T0, T0, None,  # type: ignore[call-arg]
             False)


@pytest.mark.parametrize("changes", [
    {"seq": 1.0}, {"seq": True}, {"seq": -1}, {"seq": 2**53}, {"late_reported": 1},
    {"claimed_at": datetime(2026, 1, 1)}, {"counted_at": datetime(2026, 1, 1)},
    {"counted_at": "2026-10-05T03:41:07.123456Z"}, {"note": 5}, {"status": None},
    {"receipt_number": b"BDG"},
])
def test_refuses_values_outside_the_contract(changes: dict[str, object]) -> None:
    with pytest.raises(LeafError):
        sample(**changes)


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(LeafError):
        sample(note="broken \ud800 text").canonical()


def test_parse_round_trip_and_refusals() -> None:
    text = sample().text()
    assert parse_leaf(text) == json.loads(text)
    obj = json.loads(text)
    for bad in (
        json.dumps(obj),  # not canonical (spaces, key order)
        json.dumps({**obj, "extra": 1}, sort_keys=True, separators=(",", ":")),
        json.dumps({k: v for k, v in obj.items() if k != "note"}, sort_keys=True,
                   separators=(",", ":")),
        json.dumps({**obj, "v": 2}, sort_keys=True, separators=(",", ":")),
        json.dumps({**obj, "claimed_at": "2026-10-05T03:41:07Z"}, sort_keys=True,
                   separators=(",", ":")),
        json.dumps({k: v for k, v in obj.items() if k != "counted_at"}, sort_keys=True,
                   separators=(",", ":")),
        "[]", "not json",
    ):
        with pytest.raises(LeafError):
            parse_leaf(bad)


text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
moment_st = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                         timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)),
                                                    timezone(timedelta(hours=-3, minutes=-30))]))
leaf_st = st.builds(
    Leaf, receipt_number=text_st, seq=st.integers(0, 2**53 - 1), status=text_st,
    stage_code=st.none() | text_st, claimed_at=moment_st, received_at=moment_st,
    counted_at=moment_st, note=st.none() | text_st, late_reported=st.booleans())


@settings(max_examples=300, deadline=None)
@given(leaf=leaf_st)
def test_json_dumps_gives_the_same_bytes(leaf: Leaf) -> None:
    """The standalone verifier rebuilds leaves with ``json.dumps``: byte-identical to JCS."""
    stdlib = json.dumps(leaf.to_object(), sort_keys=True, separators=(",", ":"),
                        ensure_ascii=False).encode("utf-8")
    assert stdlib == leaf.canonical()
    assert parse_leaf(leaf.text()) == leaf.to_object()


def test_json_dumps_escapes_like_jcs() -> None:
    tricky = "\x00\x01\x1f\x7f\"\\/\b\f\n\r\t\u2028\u2029\ufeff😀é"
    leaf = sample(note=tricky, status=tricky, receipt_number=tricky)
    assert json.dumps(leaf.to_object(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode() == leaf.canonical()
