"""Tracking — Pantau's system of record for cases: lifecycle, history and the working-day clock.

Layout: ``domain/`` (pure rules: calendar, SLA, case aggregate, lifecycle), ``service/`` (use cases
over ports), ``adapters/`` (SQLAlchemy store, outbox relay), ``entrypoints/`` (nameko). See
``services/tracking/README.md``.
"""
