"""Progress of a long operator command (the rebuild): a bar on a terminal, lines in a log.

``progress(stream, total, label)`` returns a context manager with ``update(n)``:

* on a TTY: a ``tqdm`` bar with count, rate and ETA;
* otherwise (a pipe, a CI log, ``kubectl logs``): one line every ``every`` seconds and one at
  the end — ``<label>: 120000/1000000 cases (12.0 %), 3100/s, ETA 4m44s`` — so a log shows
  how far it got without a carriage-return bar smeared over thousands of lines.

``total`` may be None (unknown): then lines give the count and the rate only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm


class LineProgress:
    def __init__(self, stream: TextIO, total: int | None, label: str, *, every: float = 10.0,
                 unit: str = "cases", clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.total = total
        self.label = label
        self.every = every
        self.unit = unit
        self.clock = clock
        self.done = 0
        self.started = clock()
        self.last = self.started
        self.printed = -1  # the count the last line showed

    def __enter__(self) -> LineProgress:
        self._line()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.printed != self.done:
            self._line()

    def update(self, count: int) -> None:
        self.done += count
        if self.clock() - self.last >= self.every:
            self._line()

    def _line(self) -> None:
        now = self.clock()
        self.last, self.printed = now, self.done
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        text = f"{self.label}: {self.done}"
        if self.total:
            text += f"/{self.total} {self.unit} ({100.0 * self.done / self.total:.1f} %)"
        else:
            text += f" {self.unit}"
        text += f", {rate:.0f}/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f", ETA {duration((self.total - self.done) / rate)}"
        elif elapsed > 0 and (not self.total or self.done >= self.total):
            text += f", {duration(elapsed)} in all"
        self.stream.write(text + "\n")
        self.stream.flush()


def duration(seconds: float) -> str:
    """``4m44s``, ``1h02m``, ``9s``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class BarProgress:
    def __init__(self, stream: TextIO, total: int | None, label: str) -> None:
        self.bar = tqdm(total=total, unit=" kasus", desc=label, file=stream, smoothing=0.1)

    def __enter__(self) -> BarProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    def update(self, count: int) -> None:
        self.bar.update(count)


def progress(stream: TextIO, total: int | None, label: str, *, every: float = 10.0) -> Any:
    """A bar on a terminal, periodic lines otherwise (see the module docstring)."""
    if stream.isatty():
        return BarProgress(stream, total, label)
    return LineProgress(stream, total, label, every=every)
