"""Database errors without row values: what a log, a dead letter or a problem+json may carry.

SQLAlchemy's ``hide_parameters`` keeps a failed statement's parameters out of its error, but
PostgreSQL puts row values into its own message text, which the error carries as well:

* ``DETAIL:  Failing row contains (2, Budi Santoso, null).`` (NOT NULL and CHECK violations),
  ``DETAIL:  Key (receipt_number)=(…) already exists.`` (unique violations);
* ``LINE 1: insert into … values (…, 'Siti Aminah', …)``: psycopg2 sends parameters inlined, so
  the server's error position quotes the statement with its values;
* ``invalid input syntax for type date: "Siti Aminah"``: the value in the message itself.

An applicant's name or NIK in a row would reach the logs (and, through the error's text, a dead
letter's reason) whenever a write failed. ``hide_row_values(engine)`` installs a
``handle_error`` listener that replaces the text of a PostgreSQL error — the driver's exception
and SQLAlchemy's wrapper alike — with ``without_values``: the primary message only (no
``DETAIL``, ``LINE`` or ``CONTEXT``), with every quoted value masked. Identifiers the message
names (``relation "cases"``, ``constraint "cases_pkey"``, the error's own column, table,
constraint, type and schema names) are kept: they are what an operator needs, and never row data.
The rules read PostgreSQL's English messages: a server whose ``lc_messages`` is another language
(a setting only a superuser may change, so not per session) must be set to ``C`` or ``en_US``.

The exception keeps its class, its ``pgcode`` and its ``diag`` fields, so every check that
classifies errors (``is_conflict``, "is the database away?") works as before. SQLite's messages
name constraints and columns, never values, and are left as they are.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

MASK = "…"
# "…" after one of these words names a database object, not a value
_IDENTIFIER_WORDS = ("relation", "column", "constraint", "table", "index", "schema", "database",
                     "role", "type", "sequence", "view", "trigger", "extension", "operator",
                     "function", "domain", "collation", "tablespace", "publication", "policy")
_DOUBLE_QUOTED = re.compile(r'(?P<word>\w+)?(?P<space>\s*)"(?P<text>(?:[^"]|"")*)"')
_DIAG_NAMES = ("schema_name", "table_name", "column_name", "constraint_name", "datatype_name")


def without_values(error: BaseException) -> str | None:
    """The error's primary message with every quoted value masked; None when ``error`` is not
    a PostgreSQL error with a primary message (nothing to rewrite).

    PostgreSQL writes a value between quotes without escaping the quotes inside it, so a value
    cannot be delimited exactly: from the first quoted segment that is not an identifier to the
    message's last quote, everything is masked (a value ``Budi "Bud" Santoso`` leaves nothing)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not isinstance(primary, str) or not primary:
        return None
    names = {name for name in (getattr(diag, field, None) for field in _DIAG_NAMES) if name}
    text = primary
    for match in _DOUBLE_QUOTED.finditer(primary):
        word = (match.group("word") or "").lower()
        if word in _IDENTIFIER_WORDS or match.group("text") in names:
            continue
        opening = match.start() + len(match.group("word") or "") + len(match.group("space"))
        text = f'{primary[:opening]}"{MASK}"{primary[primary.rindex(chr(34)) + 1:]}'
        break
    if "'" in text:
        text = f"{text[:text.index(chr(39))]}'{MASK}'{text[text.rindex(chr(39)) + 1:]}"
    return text


def hide_row_values(engine: sa.Engine) -> sa.Engine:
    """Rewrite the text of ``engine``'s PostgreSQL errors (``without_values``); returns it."""
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "handle_error", _rewrite)
    return engine


def _rewrite(context: Any) -> None:
    original = context.original_exception
    text = without_values(original)
    if text is None:
        return
    # both texts: a traceback prints the driver's exception too ("the direct cause of …")
    original.args = (text,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        kind = type(original)
        wrapped.args = (f"({kind.__module__}.{kind.__name__}) {text}",)
