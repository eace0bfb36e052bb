"""Chaos matrix (issue 10): every fault, for each duration of ``PANTAU_CHAOS_DURATIONS`` (comma
list of seconds, default ``10``; ``make chaos`` runs ``10,60``), heals with no human step.

One test per (fault, duration), in order, on one running system (``conftest.chaos``); each row
has its own receipts. ``PANTAU_CHAOS_FAULTS`` (comma list of fault names) runs a subset. See
``harness.run_fault`` for what one row does and checks, and ``docs/reliability.md`` for the
measured matrix.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.chaos.faults import FAULT_NAMES, catalogue
from tests.chaos.harness import ChaosRun, durations, run_fault

pytestmark = pytest.mark.chaos


def matrix() -> list[Any]:
    wanted = {n.strip() for n in os.environ.get("PANTAU_CHAOS_FAULTS", "").split(",") if n.strip()}
    unknown = wanted - set(FAULT_NAMES)
    if unknown:
        raise ValueError(f"PANTAU_CHAOS_FAULTS: unknown fault(s) {sorted(unknown)}; "
                         f"known: {FAULT_NAMES}")
    return [pytest.param(name, duration, id=f"{name}-{duration}s",
                         marks=pytest.mark.timeout(480 + 4 * duration))
            for duration in durations() for name in FAULT_NAMES
            if not wanted or name in wanted]


@pytest.mark.parametrize(("fault_name", "duration"), matrix())
def test_fault_heals_without_a_human(chaos: ChaosRun, fault_name: str, duration: int) -> None:
    fault = next(f for f in catalogue() if f.name == fault_name)
    row = run_fault(chaos, fault, duration, index=len(chaos.rows) + 1)
    chaos.record(row)
    if not row["ok"]:
        pytest.fail(f"{fault_name} held {duration} s did not heal by itself:\n  "
                    + "\n  ".join(row["problems"]) + "\n" + chaos.system.logs()[-6000:],
                    pytrace=False)
