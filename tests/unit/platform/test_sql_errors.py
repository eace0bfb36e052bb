"""``without_values``: the primary message with quoted values masked and identifiers kept."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_platform.sql_errors import MASK, without_values


@dataclass
class Diag:
    message_primary: str | None
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    constraint_name: str | None = None
    datatype_name: str | None = None


class FakeError(Exception):
    def __init__(self, diag: Diag) -> None:
        super().__init__("whole text, DETAIL and all")
        self.diag = diag


@pytest.mark.parametrize(("primary", "names", "expected"), [
    ('null value in column "nik" of relation "applicants" violates not-null constraint', {},
     'null value in column "nik" of relation "applicants" violates not-null constraint'),
    ('duplicate key value violates unique constraint "cases_pkey"', {},
     'duplicate key value violates unique constraint "cases_pkey"'),
    ('invalid input syntax for type date: "Siti Aminah"', {},
     f'invalid input syntax for type date: "{MASK}"'),
    ('value "99999999999" is out of range for type integer', {},
     f'value "{MASK}" is out of range for type integer'),
    ('invalid input value for enum case_status: "Siti ""Ami"" Aminah"', {},
     f'invalid input value for enum case_status: "{MASK}"'),
    ("malformed literal: 'Siti'", {}, f"malformed literal: '{MASK}'"),
    ('invalid input syntax for type date: "Budi "Bud" Santoso"', {},
     f'invalid input syntax for type date: "{MASK}"'),
    ('bad value: "a" column "Siti Aminah"', {}, f'bad value: "{MASK}"'),
    ('new row for relation "t" violates check constraint "nik_len"', {"constraint_name": "x"},
     'new row for relation "t" violates check constraint "nik_len"'),
    ('could not serialize "cases"', {"table_name": "cases"}, 'could not serialize "cases"'),
])
def test_values_masked_identifiers_kept(primary: str, names: dict[str, str],
                                        expected: str) -> None:
    assert without_values(FakeError(Diag(primary, **names))) == expected


def test_not_a_server_error() -> None:
    assert without_values(ValueError("x")) is None
    assert without_values(FakeError(Diag(None))) is None


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1))
def test_a_quoted_value_never_survives(value: str) -> None:
    """Quotes inside the value too: PostgreSQL does not escape them."""
    for template in ('invalid input syntax for type date: "{}"', "invalid input syntax: '{}'",
                     'value "{}" is out of range'):
        primary = template.format(value)
        assert without_values(FakeError(Diag(primary))) == template.format(MASK)
