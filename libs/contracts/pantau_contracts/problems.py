"""RFC 9457 problem details, framework-free: the one ``Problem`` both FastAPI apps answer with.

A ``Problem`` names its kind with ``slug``: a stable slug becomes the type URI
``https://pantau.id/problems/{slug}``; a value that is already a URI (``about:blank``, or a full
``https://…``) is kept as it is. ``title`` and ``detail`` say what happened in plain English and
``errors`` lists every field at fault as ``{field, problem, expected}`` (``FieldProblem``, the
same triple ``ContractViolation`` carries), so a caller can fix the request without reading
Pantau's code. ``headers`` travel with the answer (``Retry-After``, ``WWW-Authenticate``);
``extra`` adds members to the body.

Two body forms, both ``application/problem+json``:

* ``to_dict(instance)`` — every member, always (intake's API: ``detail``, ``instance`` and
  ``errors`` are always present, ``errors`` possibly empty);
* ``to_dict(instance, sparse=True)`` — ``detail``, ``instance`` and ``errors`` only when they
  hold something (the portal's machine endpoints).

The HTTP side (response, exception handler) is ``pantau_platform.problems``. It lives here, not
in a service, so that the department SDK can read the answers it gets with the same type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pantau_contracts.envelope import FieldProblem

__all__ = ["PROBLEM_BASE", "PROBLEM_CONTENT_TYPE", "Problem"]

PROBLEM_BASE = "https://pantau.id/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(eq=False)
class Problem(Exception):
    """A refusal with everything the sender needs to act on it (raise it or return it).

    Not frozen: Python assigns ``__traceback__`` on exceptions as they propagate.
    """

    slug: str
    title: str
    status: int
    detail: str = ""
    errors: tuple[FieldProblem, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type_uri(self) -> str:
        return self.slug if ":" in self.slug else PROBLEM_BASE + self.slug

    def to_dict(self, instance: str | None = None, *, sparse: bool = False) -> dict[str, Any]:
        """The JSON body; ``instance`` is the request path (see the module docstring)."""
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title,
                                "status": self.status}
        optional = {"detail": self.detail, "instance": instance,
                    "errors": [p.as_dict() for p in self.errors]}
        body.update({key: value for key, value in optional.items()
                     if not sparse or value})
        body.update(self.extra)
        return body
