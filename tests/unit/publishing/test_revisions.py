"""The live streams' shared poll and caps (``portal.revisions.RevisionHub``) with a hand-written
fetch: many streams cost one fetch per interval, caps refuse with 429/503, slots come back."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.portal.app import create_app
from pantau_publishing.portal.revisions import RevisionHub, StreamRefused
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.test_portal_security import RECEIPT, reader


class CountingFetch:
    """Answers revisions from a dict and records every call."""

    def __init__(self, revisions: dict[str, int]) -> None:
        self.revisions = revisions
        self.calls: list[list[str]] = []

    def __call__(self, receipts: list[str]) -> dict[str, int]:
        self.calls.append(receipts)
        return {r: self.revisions[r] for r in receipts if r in self.revisions}


def test_many_streams_share_one_fetch_per_interval() -> None:
    fetch = CountingFetch({"A-0001": 1, "B-0001": 7})

    async def scenario() -> None:
        hub = RevisionHub(fetch, interval=0.01, max_streams=1000, max_per_ip=1000)
        watches = [hub.open("A-0001" if i % 2 else "B-0001", f"10.0.0.{i % 7}")
                   for i in range(300)]
        fetch.revisions["A-0001"] = 2
        got = await asyncio.wait_for(watches[1].updates.get(), 5)
        assert got == 2 and hub.known("A-0001") == 2
        assert await asyncio.wait_for(watches[0].updates.get(), 5) == 7
        assert all(call == ["A-0001", "B-0001"] for call in fetch.calls)  # one query for all
        assert len(fetch.calls) < len(watches) / 10  # not one per stream
        for watch in watches:
            watch.close()
        assert hub.open_streams == 0
        await hub.stop()

    asyncio.run(scenario())


def test_caps_per_client_and_per_process() -> None:
    async def scenario() -> None:
        hub = RevisionHub(CountingFetch({}), interval=60, max_streams=3, max_per_ip=2)
        first = hub.open("A-0001", "10.0.0.1")
        hub.open("A-0001", "10.0.0.1")
        with pytest.raises(StreamRefused) as per_ip:
            hub.open("A-0001", "10.0.0.1")
        assert per_ip.value.status == 429 and per_ip.value.retry_after > 0
        hub.open("A-0001", "10.0.0.2")
        with pytest.raises(StreamRefused) as per_process:
            hub.open("A-0001", "10.0.0.3")
        assert per_process.value.status == 503
        first.close()
        first.close()  # idempotent: frees one slot, not two
        hub.open("A-0001", "10.0.0.1")
        with pytest.raises(StreamRefused):
            hub.open("A-0001", "10.0.0.4")
        await hub.stop()

    asyncio.run(scenario())


def test_a_failing_poll_keeps_the_streams() -> None:
    calls = []

    def broken(receipts: list[str]) -> dict[str, int]:
        calls.append(receipts)
        if len(calls) == 1:
            raise ConnectionError("elasticsearch away")
        return {"A-0001": 5}

    async def scenario() -> None:
        hub = RevisionHub(broken, interval=0.01, max_streams=10, max_per_ip=10)
        watch = hub.open("A-0001", "x")
        assert await asyncio.wait_for(watch.updates.get(), 5) == 5
        watch.close()
        await hub.stop()

    asyncio.run(scenario())


def test_the_route_answers_429_with_retry_after_past_the_per_ip_cap() -> None:
    settings = PublishingSettings(sse_max_streams_per_ip=0)
    client = TestClient(create_app(settings, PublicRecords(reader())))
    answer = client.get(f"/kasus/{RECEIPT}/events")
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    busy = TestClient(create_app(PublishingSettings(sse_max_streams=0),
                                 PublicRecords(reader())))
    answer = busy.get(f"/kasus/{RECEIPT}/events")
    assert answer.status_code == 503 and "retry-after" in answer.headers


def test_public_records_revisions_in_one_search() -> None:
    fake = reader()
    service = PublicRecords(fake)
    before = len(fake.bodies)
    assert service.revisions([RECEIPT.lower(), "NOPE-0000-2026", "%%"]) == {RECEIPT: 3}
    assert len(fake.bodies) == before + 1
    assert service.revisions([]) == {}
