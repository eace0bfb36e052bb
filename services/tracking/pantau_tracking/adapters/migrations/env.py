"""Alembic environment: runs on the connection handed over by ``database.migrate``."""

from __future__ import annotations

from alembic import context

from pantau_tracking.adapters.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run migrations through pantau_tracking.adapters.database.migrate")
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
