"""Imported by the schemathesis hooks modules (``st run --workers N`` runs N threads): one
``ast.parse`` at a time in that process.

CPython 3.11 before 3.11.8 keeps the AST constructor's recursion depth in state shared by every
thread, so two threads parsing at once can fail with ``SystemError: AST constructor recursion
depth mismatch`` (python/cpython#106905). Hypothesis parses the source of a lambda when it
describes a filtered strategy, and one such failure ended a portal fuzzing run as a
"Runtime Error" after every generated case had passed. The machine's Python is 3.11.7.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

_LOCK = threading.Lock()
_parse = ast.parse


def _serial_parse(*args: Any, **kwargs: Any) -> ast.AST:
    with _LOCK:
        return _parse(*args, **kwargs)


if getattr(ast.parse, "__name__", "") != "_serial_parse":
    ast.parse = _serial_parse  # type: ignore[assignment]
