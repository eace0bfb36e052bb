"""The demo covers several jurisdictions that perform differently, so the comparison page has
something to rank: one fast, one slow with many overdue, one that reports late, one too small to
rank; every demo department has dev credentials (and only demo departments do)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pantau_contracts.catalogue import Catalogue, load_catalogue
from pantau_intake.adapters.dev_credentials import load_dev_departments
from pantau_intake.domain.departments import DepartmentRef
from pantau_publishing.settings import PublishingSettings
from pantau_tools.demo.scenarios import PROFILES, DemoEvent, build

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def demo(catalogue: Catalogue) -> dict[str, list[DemoEvent]]:
    return {j: build(catalogue, j, now=NOW) for j in PROFILES}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def figures(catalogue: Catalogue, events: list[DemoEvent]) -> dict[str, float]:
    """Rough comparison figures: completed, share done within the maximum (calendar days ≈
    working days × 1.4), open cases past it, share of steps reported ≥ 2 days late."""
    cases: dict[str, list[DemoEvent]] = {}
    for event in events:
        cases.setdefault(event.body["subject"], []).append(event)
    done = on_time = overdue = 0
    for steps in cases.values():
        first = steps[0].body
        service = catalogue.service(first["source"].split("/")[1], first["data"]["service_code"])
        assert service is not None
        limit = timedelta(days=(service.max_working_days or 1) * 1.4)
        last = steps[-1].body
        if last["type"] == "case.completed":
            done += 1
            on_time += at(last["time"]) - at(first["time"]) <= limit
        elif last["type"] not in ("case.rejected", "case.withdrawn"):
            overdue += NOW - at(first["time"]) > limit
    history = [e for e in events if e.received is not None]
    late = sum(1 for e in history if e.received - at(e.body["time"]) >= timedelta(days=2))
    return {"done": done, "on_time": on_time / max(done, 1), "overdue": overdue / len(cases),
            "late": late / max(len(history), 1)}


def test_at_least_five_catalogue_jurisdictions(catalogue: Catalogue,
                                               demo: dict[str, list[DemoEvent]]) -> None:
    assert len(PROFILES) >= 5
    for code, events in demo.items():
        assert catalogue.jurisdiction(code) is not None
        assert len({e.body["subject"] for e in events}) == PROFILES[code].cases
    assert len({p.cases for p in PROFILES.values()}) >= 4  # different sizes


def test_they_perform_differently(catalogue: Catalogue,
                                  demo: dict[str, list[DemoEvent]]) -> None:
    found = {j: figures(catalogue, events) for j, events in demo.items()}
    fast, slow, late = found["kota-cimahi"], found["kab-bogor"], found["kota-depok"]
    assert fast["on_time"] > found["kota-bandung"]["on_time"] > slow["on_time"]
    assert slow["overdue"] > 2 * found["kota-bandung"]["overdue"] > 0
    assert fast["overdue"] < found["kota-bandung"]["overdue"]
    assert late["late"] == max(f["late"] for f in found.values()) and late["late"] > 0.2
    ranked = [j for j, f in found.items() if f["done"] >= PublishingSettings().comparison_min_cases]
    assert len(ranked) >= 5 and "kab-pangandaran" not in ranked  # too few: marked, not ranked


def test_every_demo_department_and_only_those_have_dev_credentials(
        catalogue: Catalogue) -> None:
    wanted = {DepartmentRef(j, d) for j in PROFILES
              for d in catalogue.jurisdictions[j].departments}
    assert {e.department for e in load_dev_departments()} == wanted
