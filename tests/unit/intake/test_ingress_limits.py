"""The AMQP ingress refuses an oversized message before parsing it (issue 14, item 5)."""

from __future__ import annotations

import json

import pytest

from pantau_contracts.envelope import MAX_EVENT_BYTES
from pantau_intake.settings import IntakeSettings
from tests.unit.intake.fakes import body, event
from tests.unit.intake.test_ingress_handler import delivery, setup


class ExplodingBytes(bytes):
    """A body that must not be parsed: any decode or split of it fails the test."""

    def decode(self, *args: object, **kwargs: object) -> str:
        raise AssertionError("the oversized body was parsed")


def oversized() -> bytes:
    ev = event()
    ev["data"]["catatan"] = "x" * MAX_EVENT_BYTES  # a valid shape, only too large
    return body(ev)


def test_a_message_over_the_limit_is_dead_lettered_as_too_large() -> None:
    handler, forwarder, rejections = setup()
    raw = oversized()
    assert len(raw) > MAX_EVENT_BYTES
    assert handler.handle(delivery(raw)) == "refused"
    assert not forwarder.forwarded
    (_, rejection), = rejections.dead
    assert rejection.reason == "too-large"
    assert rejection.errors[0].field == "body"
    (_, told), = rejections.told  # the department hears of it on its feedback queue
    assert told.refusal.reason == "too-large" and told.event_id == "m1"


def test_the_size_is_checked_before_anything_reads_the_body(
        monkeypatch: pytest.MonkeyPatch) -> None:
    handler, _, rejections = setup()
    parsed: list[bytes] = []
    monkeypatch.setattr(json, "loads", lambda raw, *a, **k: parsed.append(raw))
    assert handler.handle(delivery(ExplodingBytes(b"{" + b" " * MAX_EVENT_BYTES))) == "refused"
    assert rejections.dead[0][1].reason == "too-large" and not parsed


def test_exactly_the_limit_is_not_too_large() -> None:
    handler, _, rejections = setup()
    raw = b"{" + b" " * (MAX_EVENT_BYTES - 2) + b"}"
    assert len(raw) == MAX_EVENT_BYTES
    assert handler.handle(delivery(raw)) == "refused"
    assert rejections.dead[0][1].reason != "too-large"


def test_http_and_amqp_share_one_limit() -> None:
    assert IntakeSettings().intake_max_event_bytes == MAX_EVENT_BYTES
