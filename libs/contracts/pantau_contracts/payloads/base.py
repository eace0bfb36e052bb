"""Common pieces of payload models: identifiers, codes and the text types.

Text a sender gives is refused when it holds a control character or a Unicode non-character
(``PublicText``, ``SafeText``; see ``pantau_contracts.text``); fields published verbatim
(``ReceiptNumber``, ``ActorRole``) are refused when they look like personal data."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from pantau_contracts.text import (
    UNSAFE_JSON_PATTERN,
    check_not_personal,
    check_safe,
    normalise_newlines,
)


class _SchemaPattern:
    """Adds a ``pattern`` to a type's JSON Schema that pydantic does not enforce itself (the
    validator next to it does, with a message naming the character); ``expected`` is what a
    contract error tells the sender (``registry``)."""

    expected = "no control character but tab and line feed, no Unicode non-character"

    def __init__(self, pattern: str) -> None:
        self.schema_pattern = pattern

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.schema_pattern
        return schema


def _safe(*constraints: Any) -> Any:
    """The metadata of a text type that refuses controls and non-characters (``text``)."""
    return (BeforeValidator(normalise_newlines), *constraints, AfterValidator(check_safe),
            _SchemaPattern(UNSAFE_JSON_PATTERN))


RECEIPT_PATTERN = r"^[A-Z0-9][A-Z0-9-]{3,47}$"
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

ReceiptNumber = Annotated[str, StringConstraints(pattern=RECEIPT_PATTERN),
                          AfterValidator(check_not_personal)]
"""Receipt number (nomor tanda terima) given to the applicant: upper-case letters, digits and
dashes, 4-48 characters, unique within a deployment, e.g. ``BDG-PBG-2026-000123``. Published
as it is, so a value that looks like a NIK, an NPWP or a phone number is refused."""

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
"""A lower-case slug such as a jurisdiction, department, service or stage code."""

PublishedText = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
"""Free text as the public record carries it (a note, a reason), already redacted by tracking
(``redaction.redact_text``, which also drops what ``PublicText`` refuses). Not refused here:
text stored before the contract refused controls must still be published, cleaned."""

PublicText = Annotated[str, *_safe(StringConstraints(max_length=500, strip_whitespace=True))]
"""Free text a department gives for the public (a note, a reason): at most 500 characters, no
control characters except tab and line feed, no Unicode non-characters (``text.UNSAFE``).
Redacted before publishing."""

SafeText = Annotated[str, *_safe()]
"""Any other free text from a sender (e.g. the applicant's name): the same refusal, so it can
be stored (PostgreSQL holds no NUL) and never breaks a feed."""

Kecamatan = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z' .-]{1,39}$",
                                             strip_whitespace=True)]
"""A district (kecamatan) name, e.g. ``Coblong`` or ``Bojongloa Kidul``: letters, spaces, dots,
dashes and apostrophes only — no digits, commas or ``@`` — so a street address, a house number, a
NIK, a phone number or an e-mail cannot be smuggled into this public field."""

ActorRole = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,40}$"),
                      AfterValidator(check_not_personal)]
"""The role that acted (``petugas-loket``, ``verifikator``, ``kepala-dinas``) — never a name,
and never anything that looks like a NIK, a phone number or an e-mail (it is published)."""


class Payload(BaseModel):
    """Base for every payload: immutable, unknown fields refused, strings trimmed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
