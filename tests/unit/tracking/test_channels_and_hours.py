"""A case's clock takes its maximum from the submission channel (per-channel maxima) and counts
a maximum given in hours as ceil(hours / 24) working days (see pantau_contracts.catalogue)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from pantau_contracts.catalogue import ServiceDefinition
from pantau_contracts.envelope import event_to_json, make_event
from pantau_contracts.registry import validate_event
from pantau_tracking.domain.lifecycle import ReceivedEvent
from pantau_tracking.domain.public_record import case_sla
from pantau_tracking.service.handler import TrackingHandler, as_event

from .factories import CATALOGUE, T0
from .fakes import FakeClock, FakeStore


def submitted(receipt: str, jurisdiction: str, service: str, **data: object) -> ReceivedEvent:
    body = event_to_json(make_event(
        type="case.submitted", source=f"/{jurisdiction}/disdukcapil", id=str(uuid.uuid4()),
        data={"receipt_number": receipt, "service_code": service, **data}, time=T0))
    return as_event(validate_event(body), T0)


@pytest.fixture
def handler() -> TrackingHandler:
    return TrackingHandler(FakeStore(), CATALOGUE, FakeClock(T0 + timedelta(hours=1)))


@pytest.mark.parametrize(("channel", "maximum"), [
    ("other", 14),   # through the desa/kecamatan: the listed channel's maximum
    ("loket", 1),    # walk-in at the Dinas: the service's (strictest) maximum
    ("online", 1),   # not listed: the strictest maximum, never a looser one
    (None, 1),       # not given: case.submitted defaults to loket
])
def test_the_submission_channel_picks_the_maximum(handler: TrackingHandler, channel: str | None,
                                                  maximum: int) -> None:
    extra = {"channel": channel} if channel else {}
    handler.handle_batch([submitted("KABBDG-AK-0001", "kab-bandung", "akta-kelahiran",
                                    **extra)])
    case = handler.store.get_case("KABBDG-AK-0001")
    assert case is not None
    assert case.definition.service.max_working_days == maximum
    assert case.definition.channel == ("other" if channel == "other" else None)
    public = handler.get_case("KABBDG-AK-0001")
    assert public is not None and public["public"]["max_working_days"] == maximum


def test_a_24_hour_maximum_is_due_the_next_working_day(handler: TrackingHandler) -> None:
    handler.handle_batch([submitted("BDG-KE-0001", "kota-bandung", "ktp-el")])
    case = handler.store.get_case("BDG-KE-0001")
    assert case is not None
    legal = case.definition.service.legal_maximum
    assert (legal.value, legal.unit) == (24, "hours")
    assert case.definition.service.max_working_days == 1
    # Submitted Monday 2 March 2026 09:00 WIB: due Tuesday, overdue from Wednesday.
    assert case_sla(case, T0).due_date == date(2026, 3, 3)
    assert not case_sla(case, T0 + timedelta(days=1, hours=12)).overdue
    assert case_sla(case, T0 + timedelta(days=2)).overdue


def test_an_old_snapshot_without_the_new_fields_still_loads() -> None:
    """Cases stored before the Standar Pelayanan fields existed (and whose stage targets did not
    add up) must load: the file rules are never applied to snapshots."""
    definition = CATALOGUE.definition("kota-bandung", "pbg")
    assert definition is not None
    old = definition.model_dump(mode="json")
    old.pop("channel")
    service = old["service"]
    for field in ("max_duration", "channels", "product", "validity", "slack", "basis"):
        service.pop(field)
    service["stages"][1]["max_working_days"] = 15  # 3 + 15 + 3 + 2 = 23 of 28, as in 2026.1
    for stage in service["stages"]:
        stage.pop("max_hours")
    loaded = ServiceDefinition.model_validate(old)
    assert loaded.service.max_working_days == 28 and loaded.service.basis is None
