"""Tracking's adapters: SQLAlchemy Core store (SQLite / PostgreSQL), migrations, outbox relay."""
