"""A store-and-forward spool: JSON lines on disk, fsynced, delivered in order.

Layout: ``<path>`` holds one JSON record per line (appended, flushed and fsynced before
``append`` returns, so a spooled event survives a crash); ``<path>.pos`` holds the byte offset of
the first record not yet delivered (replaced atomically after each confirmed delivery). When
everything is delivered both are truncated.

Guarantees: nothing appended is lost; records are delivered in append order; a crash between a
broker confirm and the position update re-delivers that one record — duplicates are absorbed
downstream by CloudEvents identity (source, id).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.pos_path = self.path.with_name(self.path.name + ".pos")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> list[dict[str, Any]]:
        return [record for _end, record in self._records()]

    def __len__(self) -> int:
        return len(self.pending())

    def drain(self, deliver: Callable[[dict[str, Any]], None]) -> int:
        """Deliver pending records in order; stops at (and re-raises) the first failure.

        ``deliver`` must return only once the record is safely delivered (broker confirm).
        Returns the number delivered.
        """
        delivered = 0
        for end, record in self._records():
            deliver(record)
            self._set_position(end)
            delivered += 1
        self._compact()
        return delivered

    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if not self.path.exists():
            return
        start = self._position()
        with self.path.open("rb") as handle:
            handle.seek(start)
            offset = start
            for raw in handle:
                offset += len(raw)
                if not raw.endswith(b"\n"):
                    return  # a torn last line (crash mid-append) was never acknowledged
                if raw.strip():
                    yield offset, json.loads(raw)

    def _position(self) -> int:
        try:
            return int(self.pos_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _set_position(self, offset: int) -> None:
        tmp = self.pos_path.with_name(self.pos_path.name + ".tmp")
        with tmp.open("w") as handle:
            handle.write(str(offset))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.pos_path)

    def _compact(self) -> None:
        if self.path.exists() and self._position() >= self.path.stat().st_size:
            with self.path.open("w") as handle:
                handle.flush()
                os.fsync(handle.fileno())
            self.pos_path.unlink(missing_ok=True)
