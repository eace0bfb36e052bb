"""Partial indexes, so tracking's periodic queries cost what is open or late, not the whole
history (issue 13: tracking with a million stored cases; ``bench/tracking_history.py``).

* ``ix_cases_open_jurisdiction`` — ``cases (jurisdiction, overdue_reported) WHERE is_open``: the
  SLA gauges count open and overdue cases per jurisdiction every 30 s; without it that is a
  sequential scan of every case ever stored (141 ms at 100,000 cases, growing with history).
* ``ix_case_history_late`` — ``case_history (receipt_number) WHERE late_reported``: the gauges'
  late-reported count scanned every history row (four per case) to find the few late ones.

Partial indexes work on SQLite (3.8+) and PostgreSQL alike; the per-event queries need none
(each is a primary-key lookup already: docs/performance.md, "Tracking with history").

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN = sa.text("is_open")
LATE = sa.text("late_reported")


def upgrade() -> None:
    op.create_index("ix_cases_open_jurisdiction", "cases", ["jurisdiction", "overdue_reported"],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_case_history_late", "case_history", ["receipt_number"],
                    postgresql_where=LATE, sqlite_where=LATE)


def downgrade() -> None:
    op.drop_index("ix_case_history_late", table_name="case_history")
    op.drop_index("ix_cases_open_jurisdiction", table_name="cases")
