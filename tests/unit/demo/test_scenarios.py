"""Demo scenarios: receipts from the catalogue's prefixes, deterministic simulated reporting
delays (history import) with one habitual late reporter per jurisdiction, recent events left to
the intake API, and the history message shaped exactly like intake's forwarded events."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pantau_contracts.catalogue import Catalogue, load_catalogue
from pantau_contracts.envelope import RECEIVED_ATTRIBUTE, format_time
from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_tools.demo.__main__ import history_message
from pantau_tools.demo.scenarios import RECENT, DemoEvent, build, late_reporter, receipt_prefix

NOW = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
SIZES = {"kota-bandung": 300, "kab-bandung": 80}
TZ = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def demo(catalogue: Catalogue) -> dict[str, list[DemoEvent]]:
    return {j: build(catalogue, j, n, now=NOW) for j, n in SIZES.items()}


def claimed(event: DemoEvent) -> datetime:
    return datetime.fromisoformat(event.body["time"].replace("Z", "+00:00"))


def weekdays_between(a: date, b: date) -> int:
    return sum((a + timedelta(days=i)).weekday() < 5 for i in range(1, (b - a).days + 1))


def delay_days(event: DemoEvent) -> int:
    assert event.received is not None
    return weekdays_between(claimed(event).astimezone(TZ).date(),
                            event.received.astimezone(TZ).date())


@pytest.mark.parametrize("jurisdiction", list(SIZES))
def test_receipts_come_from_the_sending_departments_prefixes(
        catalogue: Catalogue, demo: dict[str, list[DemoEvent]], jurisdiction: str) -> None:
    receipts = {e.body["subject"]: e.source for e in demo[jurisdiction]}
    assert len(receipts) == SIZES[jurisdiction]
    for receipt, source in receipts.items():
        assert catalogue.receipt_owner(receipt) == tuple(source.strip("/").split("/"))
        service = next(e for e in demo[jurisdiction] if e.body["subject"] == receipt
                       and e.body["type"] == "case.submitted").body["data"]["service_code"]
        juris = catalogue.jurisdiction(jurisdiction)
        assert juris is not None
        department = juris.departments[source.rsplit("/", 1)[1]]
        assert receipt.startswith(receipt_prefix(department, department.services[service]))
    prefix = "BDG-" if jurisdiction == "kota-bandung" else "KABBDG-"
    assert {r.split("-20")[0] for r in receipts} >= {prefix + "PBG", prefix + "KE"}


def test_the_prefix_rule(catalogue: Catalogue) -> None:
    kota = catalogue.jurisdiction("kota-bandung")
    kab = catalogue.jurisdiction("kab-bandung")
    assert kota is not None and kab is not None
    assert receipt_prefix(kota.departments["dpmptsp"], kota.departments["dpmptsp"]
                          .services["slf"]) == "BDG-SLF-"
    assert receipt_prefix(kab.departments["disdukcapil"], kab.departments["disdukcapil"]
                          .services["ktp-el"]) == "KABBDG-KE-"
    other = kota.departments["dpmptsp"].model_copy(
        update={"receipt_prefixes": ("BDG-X-", "BDG-Y-")})
    assert receipt_prefix(other, other.services["pbg"]) == "BDG-X-"  # no -PBG-: the first


@pytest.mark.parametrize("jurisdiction", list(SIZES))
def test_loading_is_deterministic(catalogue: Catalogue, demo: dict[str, list[DemoEvent]],
                                  jurisdiction: str) -> None:
    again = build(catalogue, jurisdiction, SIZES[jurisdiction], now=NOW)
    assert again == demo[jurisdiction]
    other_seed = build(catalogue, jurisdiction, SIZES[jurisdiction], now=NOW, seed=7)
    assert [e.received for e in other_seed] != [e.received for e in demo[jurisdiction]]


@pytest.mark.parametrize("jurisdiction", list(SIZES))
def test_history_has_received_times_and_recent_events_go_through_intake(
        demo: dict[str, list[DemoEvent]], jurisdiction: str) -> None:
    by_case: dict[str, list[DemoEvent]] = defaultdict(list)
    for event in demo[jurisdiction]:
        by_case[event.body["subject"]].append(event)
        assert event.history == (claimed(event) < NOW - RECENT)
        assert claimed(event) < NOW
        if event.received is not None:
            assert claimed(event) < event.received < NOW
    recent = [e for e in demo[jurisdiction] if not e.history]
    assert recent, "some cases were opened within the last hour"
    for events in by_case.values():
        events.sort(key=lambda e: e.body["sequence"])
        received = [e.received for e in events if e.received is not None]
        assert received == sorted(received)  # reported in order
        assert [e.body["sequence"] for e in events] == list(range(1, len(events) + 1))


@pytest.mark.parametrize("jurisdiction", list(SIZES))
def test_one_department_reports_late_the_others_within_tolerance(
        catalogue: Catalogue, demo: dict[str, list[DemoEvent]], jurisdiction: str) -> None:
    juris = catalogue.jurisdiction(jurisdiction)
    assert juris is not None
    late_department = late_reporter(juris)
    steps: dict[str, list[int]] = defaultdict(list)
    for event in demo[jurisdiction]:
        if event.history:
            steps[event.source.rsplit("/", 1)[1]].append(delay_days(event))
    assert set(steps) == set(juris.departments)
    for department, delays in steps.items():
        late = [d for d in delays if d > juris.reporting_tolerance]
        if department == late_department:
            assert 0.1 <= len(late) / len(delays) <= 0.45, (department, len(late), len(delays))
            assert max(delays) <= 12
        else:
            assert not late, department
    same_minute = [e for e in demo[jurisdiction] if e.received is not None
                   and e.received - claimed(e) < timedelta(hours=1)]
    assert len(same_minute) > len(demo[jurisdiction]) / 3  # mostly minutes to hours


def test_history_message_is_what_intake_forwards(
        catalogue: Catalogue, demo: dict[str, list[DemoEvent]]) -> None:
    event = next(e for e in demo["kab-bandung"] if e.history)
    assert event.received is not None
    message = history_message(event, catalogue)
    document = json.loads(message.body)
    department = event.source.rsplit("/", 1)[1]
    assert message.exchange == ACCEPTED_EXCHANGE
    assert message.routing_key == f"kab-bandung.{department}.{event.body['type']}"
    assert message.message_id == event.body["id"]
    assert message.content_type == "application/cloudevents+json"
    assert document[RECEIVED_ATTRIBUTE] == format_time(event.received)
    assert {k: v for k, v in document.items() if k != RECEIVED_ATTRIBUTE} == event.body

    squatter = DemoEvent(event.source, {**event.body, "subject": "BDG-PBG-2026-000001",
                                        "data": {**event.body["data"],
                                                 "receipt_number": "BDG-PBG-2026-000001"}},
                         event.received)
    with pytest.raises(ValueError, match="BDG-PBG-2026-000001 is not a receipt of"):
        history_message(squatter, catalogue)


def test_recent_events_already_loaded_with_other_content_are_kept(
        monkeypatch: pytest.MonkeyPatch, demo: dict[str, list[DemoEvent]]) -> None:
    """An old state (earlier demo version) answers 409 for a reused id: the load goes on."""
    import pantau_tools.demo.__main__ as loader
    from pantau_client.http_sender import Refused

    recent = [e for e in demo["kota-bandung"] if not e.history]
    conflicting = recent[0].body["id"]
    delivered: list[str] = []

    class FakeSender:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def send_batch(self, bodies: list[dict[str, object]]) -> None:
            if any(b["id"] == conflicting for b in bodies):
                raise Refused({"status": 409, "title": "Conflict"})
            delivered.extend(str(b["id"]) for b in bodies)

        def send(self, body: dict[str, object]) -> None:
            if body["id"] == conflicting:
                raise Refused({"status": 409, "title": "Conflict"})
            delivered.append(str(body["id"]))

        def close(self) -> None:
            pass

    monkeypatch.setattr(loader, "HttpSender", FakeSender)
    assert loader.send(recent, "http://intake.invalid") == len(recent) - 1
    assert sorted(delivered) == sorted(e.body["id"] for e in recent[1:])
