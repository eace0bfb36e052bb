"""Tracking — Pantau's system of record for cases: lifecycle, history and the working-day clock.

Layout: ``domain/`` (pure rules: calendar, SLA, case aggregate, lifecycle), ``service/`` (use cases
over the ports of ``service/ports.py``), ``adapters/`` (SQLAlchemy store, outbox relay),
``worker/`` (the tracking process: nameko), ``cli/`` (operator commands). See
``services/tracking/README.md``.
"""
