"""Tracking's operator commands (``python -m pantau_tracking.cli.<command>``): run by hand against
tracking's database, never by the tracking process. ``purge``: the retention purge, now."""
