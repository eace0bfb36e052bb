"""Who sent a signed request: the values authentication works with.

``ActiveKey`` is a key as the authenticator needs it (id, department, plaintext secret), as the
``KeyResolver`` port returns it; ``Principal`` is the authenticated sender (key id, department,
the scheme that verified). The checks themselves are ``service.authentication.Authenticator``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pantau_intake.domain.departments import DepartmentRef


@dataclass(frozen=True)
class ActiveKey:
    """A key as the authenticator needs it: the department and the plaintext secret."""

    key_id: str
    department: DepartmentRef
    secret: str


@dataclass(frozen=True)
class Principal:
    """Who sent a request, once authenticated."""

    key_id: str
    department: DepartmentRef
    scheme: str = "v2"
    """The signature scheme that verified (``v1`` is deprecated: the answer says so)."""
