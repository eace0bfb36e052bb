"""Lone UTF-16 surrogates in decoded JSON: text that no UTF-8 encoder can write back.

JSON lets a sender write ``"\\ud800"`` — an escape for half of a UTF-16 pair with no other half.
Python's ``json`` decodes it to a ``str`` holding a lone surrogate, and every later step that
encodes text (a problem+json answer echoing the id, an AMQP header, a feedback record, the
database) fails with ``UnicodeEncodeError``. Intake refuses such input up front, naming where it
was found, so nothing downstream ever sees it.

Contract of ``find_lone_surrogate(value)``: the path (``id``, ``data.items[2]``, ``[0].source``)
of the first string — a value or an object *key* — holding a lone surrogate, or None. The path is
printable ASCII: a key that itself holds a surrogate is shown JSON-escaped (``data["\\ud800"]``),
so the path can be echoed safely.
"""

from __future__ import annotations

import re
from typing import Any

from pantau_contracts import FieldProblem

_SURROGATE = re.compile("[\ud800-\udfff]")
# A cheap pre-check on raw JSON bytes: a surrogate can only come from a \\uD800-\\uDFFF escape
# (UTF-8 cannot encode one, so a strict decoder never produces it from raw bytes).
_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

PROBLEM = "contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)"
EXPECTED = "Unicode text: a surrogate escape only as half of a pair, e.g. \\ud83d\\ude00"


def may_contain(raw: bytes) -> bool:
    """False when ``raw`` JSON certainly decodes without surrogates (no such escape in it)."""
    return _ESCAPE.search(raw) is not None


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def find_lone_surrogate(value: Any, path: str = "") -> str | None:
    """Where the first lone surrogate in decoded JSON ``value`` is (see module docstring)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:  # iterative: nesting depth is bounded by the decoder, not by this walk
        item, where = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return where or "body"
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                name = _member(where, key)
                if has_lone_surrogate(key):
                    return name
                children.append((child, name))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{where}[{i}]") for i, child in enumerate(item)]))
    return None


def problem_at(path: str) -> FieldProblem:
    """The ``{field, problem, expected}`` triple for a surrogate found at ``path``."""
    return FieldProblem(path, PROBLEM, EXPECTED)


def _member(parent: str, key: str) -> str:
    if has_lone_surrogate(key) or not key.isprintable() or not key.isascii() \
            or any(c in key for c in '.[]"'):
        shown = '["' + key.encode("ascii", "backslashreplace").decode("ascii") \
            .replace('"', '\\"') + '"]'
        return f"{parent}{shown}" if parent else shown
    return f"{parent}.{key}" if parent else key
