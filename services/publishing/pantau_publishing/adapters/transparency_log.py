"""``TransparencyLog`` adapter: tracking's transparency log read through its own database URL.

The portal only reads (``pantau_transparency.sql.LogReader``); in production the URL's role may
SELECT the ``transparency_*`` tables and nothing else. A small pool: proofs are a few queries.
"""

from __future__ import annotations

import sqlalchemy as sa

from pantau_platform.sql_errors import hide_row_values
from pantau_transparency.sql import LogReader


def open_log(url: str) -> tuple[sa.Engine, LogReader]:
    """An engine on ``url`` (``postgres(ql)://`` uses psycopg2) and the reader over it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 5, "check_same_thread": False},
                                  hide_parameters=True)
    else:
        engine = hide_row_values(sa.create_engine(url, pool_size=2, max_overflow=4,
                                                  pool_pre_ping=True, hide_parameters=True))
    return engine, LogReader(engine)
