"""``pantau-client backfill`` against intake's real app in-process (TestClient as the httpx
client): every event once, each case in order, refusals by line, resumable checkpoint."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pantau_client import backfill
from pantau_client.backfill import Checkpoint, Ledger, Line, Options, Position, RefusedLog
from pantau_client.backfill_transports import HttpTransport, retry_after
from pantau_client.http_sender import HttpSender
from pantau_intake.http.app import create_app
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import (
    SECRETS,
    FakeDirectory,
    FakeKeys,
    FixedClock,
    RecordingForwarder,
    event,
)

STEPS = ("case.submitted", "case.stage_started", "case.stage_started", "case.completed")


def history(path: Path, cases: int = 12) -> list[dict[str, Any]]:
    """``cases`` × 4 steps, interleaved across cases as a real history would be."""
    events = []
    for step, kind in enumerate(STEPS, start=1):
        for case in range(cases):
            ev = event(kind, receipt_number=f"BDG-PBG-2025-{case:06d}")
            ev["sequence"] = step
            events.append(ev)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return events


def transports(app: Any, fail_after: int | None = None) -> Any:
    sent = [0]
    lock = threading.Lock()

    class Failing(HttpTransport):
        def send(self, batch: list[Line]) -> list[backfill.Refusal]:
            with lock:
                sent[0] += 1
                if fail_after is not None and sent[0] > fail_after:
                    raise backfill.Fatal("killed (test)")
            return super().send(batch)

    def make(stop: threading.Event) -> HttpTransport:
        return Failing(HttpSender("http://testserver", "k-dpmptsp", SECRETS["k-dpmptsp"],
                                  client=TestClient(app)), stop)
    return make


@pytest.fixture
def forwarder() -> RecordingForwarder:
    return RecordingForwarder()


@pytest.fixture
def app(forwarder: RecordingForwarder) -> Any:
    return create_app(IntakeSettings(intake_rate_per_second=0), keys=FakeKeys(),
                      directory=FakeDirectory(), forwarder=forwarder,
                      received_clock=FixedClock())


def run(path: Path, make: Any, **options: Any) -> backfill.Summary:
    return backfill.run(path, make, Options(**{"batch_size": 7, "lanes": 3, **options}),
                        checkpoint=Path(f"{path}.checkpoint"), refused=Path(f"{path}.refused"),
                        quiet=True)


def by_case(forwarded: list[Any]) -> dict[str, list[int]]:
    cases: dict[str, list[int]] = defaultdict(list)
    for ev in forwarded:
        cases[ev.payload.receipt_number].append(ev.sequence)
    return cases


def test_every_event_once_and_each_case_in_order(tmp_path: Path, app: Any,
                                                 forwarder: RecordingForwarder) -> None:
    path = tmp_path / "history.jsonl"
    events = history(path)
    summary = run(path, transports(app))
    assert (summary.accepted, summary.refused, summary.error) == (48, 0, "")
    assert sorted(e.id for e in forwarder.forwarded) == sorted(e["id"] for e in events)
    assert all(seqs == [1, 2, 3, 4] for seqs in by_case(forwarded=forwarder.forwarded).values())
    assert json.loads(Path(f"{path}.checkpoint").read_text()) == {
        "line": 48, "offset": path.stat().st_size}
    again = run(path, transports(app))  # a finished file: nothing is sent again
    assert again.accepted == 0 and len(forwarder.forwarded) == 48


@pytest.mark.parametrize("local_check", [True, False])
def test_a_bad_line_is_refused_by_number_and_the_rest_goes_on(
        tmp_path: Path, app: Any, forwarder: RecordingForwarder, local_check: bool) -> None:
    path = tmp_path / "history.jsonl"
    history(path, cases=3)
    lines = path.read_text().splitlines()
    broken = event(receipt_number="BDG-PBG-2025-999999")
    del broken["data"]["service_code"]  # breaks the contract
    other = event(receipt_number="BDG-KE-2025-000001")  # another department's receipt
    lines[1:1] = ["{not json", "", json.dumps(broken), json.dumps(other)]
    path.write_text("\n".join(lines) + "\n")
    summary = run(path, transports(app), local_check=local_check)
    assert summary.refused == 3 and summary.accepted == 12
    refused = [json.loads(r) for r in Path(f"{path}.refused").read_text().splitlines()]
    assert [r["line"] for r in sorted(refused, key=lambda r: r["line"])] == [2, 4, 5]
    reasons = " ".join(r["reason"] for r in refused)
    assert "JSON" in reasons and "forbidden" in reasons and "service_code" in json.dumps(refused)
    assert len(forwarder.forwarded) == 12
    assert json.loads(Path(f"{path}.checkpoint").read_text())["line"] == 16


def test_a_stopped_backfill_resumes_from_its_checkpoint(tmp_path: Path, app: Any,
                                                        forwarder: RecordingForwarder) -> None:
    path = tmp_path / "history.jsonl"
    events = history(path, cases=30)
    first = run(path, transports(app, fail_after=5), lanes=2, window=1)
    assert "killed" in first.error
    stopped_at = Checkpoint(Path(f"{path}.checkpoint")).load()
    assert 0 < stopped_at.line < 120
    assert len(forwarder.forwarded) >= stopped_at.line
    second = run(path, transports(app), lanes=2)
    assert second.error == ""
    # intake's idempotency absorbs what was resent after the checkpoint: every event once
    assert sorted(e.id for e in forwarder.forwarded) == sorted(e["id"] for e in events)
    assert second.accepted >= 120 - stopped_at.line > 0
    assert len(forwarder.forwarded) == 120
    assert all(seqs == [1, 2, 3, 4] for seqs in by_case(forwarder.forwarded).values())


def test_the_checkpoint_is_the_end_of_the_contiguous_done_lines(tmp_path: Path) -> None:
    marker = Checkpoint(tmp_path / "f.checkpoint")
    refused = RefusedLog(tmp_path / "f.refused")
    done: list[int] = []
    ledger = Ledger(marker, Position(), refused, done.append, save_every=0.0)
    line = [Line(n, n * 10, b"{}") for n in range(1, 7)]
    ledger.accepted_lines([line[2], line[3]])  # a faster lane finished first
    assert ledger.position == Position() and not marker.path.exists()
    ledger.refused_lines([backfill.Refusal(line[0], "bad")])
    assert marker.load() == Position(1, 10)
    ledger.accepted_lines([line[1]])
    assert marker.load() == Position(4, 40)
    assert json.loads(refused.path.read_text())["line"] == 1  # synced before the checkpoint
    assert sum(done) == 4 and ledger.accepted == 3
    assert not (tmp_path / "f.checkpoint.tmp").exists()


def test_429_is_waited_for_with_retry_after_and_never_dropped() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "0"}),
               httpx.Response(503), httpx.Response(202, json={"status": "accepted"})]
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return answers.pop(0)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    transport = HttpTransport(HttpSender("http://intake", "k", "s", client=client),
                              threading.Event(), max_backoff=0.01)
    assert transport.send([Line(1, 3, b"{}")]) == []
    assert transport.throttled == 1 and len(bodies) == 3 and not answers


def test_a_wrong_key_stops_the_backfill() -> None:
    client = httpx.Client(transport=httpx.MockTransport(
        lambda _request: httpx.Response(401, json={"status": 401, "detail": "unknown key"})))
    transport = HttpTransport(HttpSender("http://intake", "k", "s", client=client),
                              threading.Event())
    with pytest.raises(backfill.Fatal):
        transport.send([Line(1, 3, b"{}"), Line(2, 6, b"{}")])


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is not None


class FlakyBroker:
    """A ``DepartmentClient`` stand-in: unavailable ``outages`` times, then confirms."""

    def __init__(self, outages: int = 0, refuse: bool = False) -> None:
        self.outages, self.refuse = outages, refuse
        self.published: list[str] = []
        self.closed = 0

    def publish(self, record: dict[str, Any]) -> None:
        from pantau_client.department import Unavailable

        if self.refuse:
            raise PermissionError("ACCESS_REFUSED")
        if self.outages:
            self.outages -= 1
            raise Unavailable("connection lost (fake)")
        self.published.append(record["message_id"])

    def close(self) -> None:
        self.closed += 1


def test_amqp_waits_for_the_broker_and_keeps_the_order() -> None:
    from pantau_client.backfill_transports import AmqpTransport

    broker = FlakyBroker(outages=2)
    transport = AmqpTransport(broker, threading.Event(), max_backoff=0.01)  # type: ignore[arg-type]
    lines = [Line(n, n, b"{}", record={"message_id": f"e{n}"}) for n in (1, 2, 3)]
    assert transport.send(lines) == []
    assert broker.published == ["e1", "e2", "e3"] and broker.closed == 2


def test_amqp_refused_by_the_broker_stops_the_backfill() -> None:
    from pantau_client.backfill_transports import AmqpTransport

    transport = AmqpTransport(FlakyBroker(refuse=True), threading.Event())  # type: ignore[arg-type]
    with pytest.raises(backfill.Fatal):
        transport.send([Line(1, 1, b"{}", record={"message_id": "e1"})])


def test_amqp_lines_are_checked_against_the_contract_here(tmp_path: Path) -> None:
    from pantau_client.department import DepartmentClient
    from pantau_client.identity import Department

    client = DepartmentClient("amqp://nowhere:5672/pantau", Department("kota-bandung", "dpmptsp"),
                              tmp_path / "unused")
    good = json.dumps(event()).encode()
    broken = event()
    del broken["data"]["service_code"]
    line = backfill.check_line(1, 10, good, local_check=False, record_for=client.record_for)
    assert isinstance(line, Line) and line.record is not None
    assert line.record["routing_key"] == "kota-bandung.dpmptsp.case.submitted"
    assert line.case == "BDG-PBG-2026-000001"
    refused = backfill.check_line(2, 20, json.dumps(broken).encode(), local_check=False,
                                  record_for=client.record_for)
    assert isinstance(refused, backfill.Refusal) and "service_code" in refused.reason
