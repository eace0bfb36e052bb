"""Keyset paging over tracking's public records (plain Python; the rebuild and reconcile
commands use it).

``pages(fetch, page_size)`` yields every record of a source ordered by receipt number, asking
``fetch(after, page_size)`` for the next page after the last receipt seen. Only an empty page ends
it: tracking answers a short page when a full one would not fit in one broker message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def pages(fetch: Callable[[str | None, int], list[dict[str, Any]]],
          page_size: int) -> Iterator[dict[str, Any]]:
    """Every record from a keyset-paged source ordered by receipt number."""
    after: str | None = None
    while True:
        page = fetch(after, page_size)
        if not page:
            return
        yield from page
        after = page[-1]["receipt_number"]
