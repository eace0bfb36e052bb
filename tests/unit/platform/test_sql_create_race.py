"""``pantau_platform.sql.create_tables`` on SQLite: several processes' engines creating the same
tables on one file at once all succeed (intake's three processes share one file in development;
one of them used to die at start with "table ... already exists")."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from pantau_platform.sql import create_tables, engine_for


def test_concurrent_creators_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def creator() -> None:
        metadata = sa.MetaData()
        for n in range(8):
            sa.Table(f"t{n}", metadata, sa.Column("id", sa.Integer, primary_key=True))
        engine = engine_for(url)  # one engine each, as one per process
        start.wait()
        try:
            create_tables(engine, metadata, lock_id=1)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=creator) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(sa.inspect(engine_for(url)).get_table_names()) == {f"t{n}" for n in range(8)}
