"""The department's AMQP client validates like the ingress before anything is sent or spooled
(no broker: ``record_for`` never connects)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pantau_client.department import DepartmentClient
from pantau_client.identity import Department
from pantau_contracts import ContractViolation
from tests.unit.intake.fakes import body, event

DPMPTSP = Department("kota-bandung", "dpmptsp")


def client(tmp_path: Path) -> DepartmentClient:
    return DepartmentClient("amqp://nobody:x@127.0.0.1:1/none", DPMPTSP, tmp_path / "s.jsonl")


def test_an_event_is_recorded_under_its_routing_key(tmp_path: Path) -> None:
    ev = event()
    record = client(tmp_path).record_for(body(ev))
    assert record["routing_key"] == "kota-bandung.dpmptsp.case.submitted"
    assert record["message_id"] == ev["id"]


def test_pantaureceived_is_refused_before_sending(tmp_path: Path) -> None:
    sender = client(tmp_path)
    with pytest.raises(ContractViolation) as refused:
        sender.record_for({**event(), "pantaureceived": "2026-03-02T01:15:00.000000Z"})
    assert [p.field for p in refused.value.problems] == ["pantaureceived"]
    assert sender.spool.pending() == []
