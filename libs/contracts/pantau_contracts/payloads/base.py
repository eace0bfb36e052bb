"""Common pieces of payload models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

RECEIPT_PATTERN = r"^[A-Z0-9][A-Z0-9-]{3,47}$"
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

ReceiptNumber = Annotated[str, StringConstraints(pattern=RECEIPT_PATTERN)]
"""Receipt number (nomor tanda terima) given to the applicant: upper-case letters, digits and
dashes, 4-48 characters, unique within a deployment, e.g. ``BDG-PBG-2026-000123``."""

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
"""A lower-case slug such as a jurisdiction, department, service or stage code."""

PublicText = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
"""Free text meant for the public (a note, a reason). Redacted again before publishing."""

Kecamatan = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z' .-]{1,39}$",
                                             strip_whitespace=True)]
"""A district (kecamatan) name, e.g. ``Coblong`` or ``Bojongloa Kidul``: letters, spaces, dots,
dashes and apostrophes only — no digits, commas or ``@`` — so a street address, a house number, a
NIK, a phone number or an e-mail cannot be smuggled into this public field."""

ActorRole = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,40}$")]
"""The role that acted (``petugas-loket``, ``verifikator``, ``kepala-dinas``) — never a name."""


class Payload(BaseModel):
    """Base for every payload: immutable, unknown fields refused, strings trimmed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
