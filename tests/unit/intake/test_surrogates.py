"""Finding lone UTF-16 surrogates in decoded JSON (keys and values), with the field path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_intake.domain.surrogates import find_lone_surrogate, may_contain, problem_at

LONE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
clean_text = st.text(max_size=8)  # hypothesis' text() never yields surrogates by default
clean_json = st.recursive(
    st.none() | st.booleans() | st.integers() | clean_text,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(clean_text, children, max_size=3), max_leaves=10)


@pytest.mark.parametrize(("raw", "path"), [
    (b'{"id":"\\ud800"}', "id"),
    (b'{"data":{"items":[1,"x","ok\\udfff"]}}', "data.items[2]"),
    (b'[{"source":"/a/b"},{"id":"\\uDBFF"}]', "[1].id"),
    (b'{"data":{"\\ud800":1}}', 'data["\\ud800"]'),
    (b'{"a.b":{"c":"\\udc00"}}', '["a.b"].c'),
    (b'"\\ud800"', "body"),
])
def test_the_path_names_the_field(raw: bytes, path: str) -> None:
    assert may_contain(raw)
    where = find_lone_surrogate(json.loads(raw))
    assert where == path
    assert where.isascii() and where.isprintable()  # safe to echo in any answer or header
    assert problem_at(where).field == path


def test_a_proper_pair_is_fine() -> None:
    raw = b'{"id":"\\ud83d\\ude00"}'  # an emoji written as an escaped pair
    assert may_contain(raw)  # the cheap check only says "look closer"
    assert find_lone_surrogate(json.loads(raw)) is None


@given(clean_json)
def test_clean_json_has_none_and_usually_skips_the_walk(value: Any) -> None:
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert find_lone_surrogate(json.loads(raw)) is None
    assert not may_contain(raw) or "\\u" in raw.decode()


@given(clean_json, LONE, st.data())
def test_a_planted_surrogate_is_always_found(value: Any, lone: str, data: st.DataObject) -> None:
    as_key = data.draw(st.booleans())
    planted = {"before": value, lone if as_key else "x": lone if not as_key else 1}
    raw = json.dumps(planted).encode()  # ensure_ascii: the surrogate travels as an escape
    assert may_contain(raw)
    where = find_lone_surrogate(json.loads(raw))
    assert where is not None and where.isascii()
    assert where.startswith('["\\u') if as_key else where == "x"
