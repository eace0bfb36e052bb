"""The failure shared by every port backed by intake's database."""

from __future__ import annotations


class StoreUnavailable(RuntimeError):
    """The intake database (seen signatures, accepted events) could not be reached.

    Raised by the SQL adapters instead of driver errors, so the HTTP edge can answer ``503``
    (nothing accepted; retry) rather than crash.
    """
