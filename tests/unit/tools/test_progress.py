"""The rebuild's progress: periodic lines with rate and ETA when stderr is not a terminal."""

from __future__ import annotations

import io

from pantau_tools.progress import BarProgress, LineProgress, duration, progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_every_interval_with_rate_and_eta_then_a_last_line() -> None:
    out, clock = io.StringIO(), Clock()
    with LineProgress(out, 10_000, "rebuild", every=10.0, clock=clock) as bar:
        clock.now += 5.0
        bar.update(1000)  # before the interval: no line
        clock.now += 5.0
        bar.update(2000)  # 3000 in 10 s
        clock.now += 20.0
        bar.update(7000)
    lines = out.getvalue().splitlines()
    assert lines == [
        "rebuild: 0/10000 cases (0.0 %), 0/s",
        "rebuild: 3000/10000 cases (30.0 %), 300/s, ETA 23s",
        "rebuild: 10000/10000 cases (100.0 %), 333/s, 30s in all",  # (not twice at the end)
    ]


def test_an_unknown_total_gives_count_and_rate() -> None:
    out, clock = io.StringIO(), Clock()
    with LineProgress(out, None, "rebuild", every=1.0, clock=clock) as bar:
        clock.now += 2.0
        bar.update(50)
    assert out.getvalue().splitlines()[-1] == "rebuild: 50 cases, 25/s, 2s in all"


def test_durations() -> None:
    assert [duration(s) for s in (9.4, 284, 3720)] == ["9s", "4m44s", "1h02m"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal_and_lines_otherwise() -> None:
    with progress(Terminal(), 10, "rebuild") as bar:
        assert isinstance(bar, BarProgress)
        bar.update(10)
    with progress(io.StringIO(), 10, "rebuild") as lines:
        assert isinstance(lines, LineProgress)
