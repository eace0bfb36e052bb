"""Transparency log tables: queue, leaves, nodes (complete subtree hashes), checkpoints, keys.

The same definitions as ``pantau_transparency.sql`` (which owns the log); written out here so
the migration stays fixed when the library changes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transparency_queue",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("receipt_number", sa.String(48), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("leaf", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_transparency_queue_receipt_number", "transparency_queue",
                    ["receipt_number"])
    op.create_table(
        "transparency_leaves",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("receipt_number", sa.String(48), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("leaf", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    # One leaf per public entry (the sequencer refuses duplicates); also the receipt lookup.
    op.create_index("ux_transparency_leaves_receipt_seq", "transparency_leaves",
                    ["receipt_number", "seq"], unique=True)
    op.create_table(
        "transparency_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "transparency_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "transparency_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("transparency_keys", "transparency_checkpoints", "transparency_nodes",
                  "transparency_leaves", "transparency_queue"):
        op.drop_table(table)
