"""``PANTAU_LOG_FORMAT=json``: one JSON object a line with the span's ids, redacted like text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from pantau_platform import tracing
from pantau_platform.logging import configure

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.setenv("PANTAU_LOG_FORMAT", "json")
    configure("INFO", "test-svc")
    out = io.StringIO()
    root.handlers[0].setStream(out)  # type: ignore[attr-defined]
    tracing.configure("test-svc")
    yield out
    root.handlers[:], level = saved
    root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_inside_a_span_carries_trace_span_event_and_receipt(stream: io.StringIO) -> None:
    with tracing.batch_span("apply", [{"traceparent": PARENT}],
                            attributes={tracing.EVENT_ID: "ev-1",
                                        tracing.RECEIPT: "BDG-PBG-0001"}) as span:
        logging.getLogger("pantau.test").info("applied %s", "case.submitted")
    (line,) = lines(stream)
    assert line["message"] == "applied case.submitted"
    assert line["service"] == "test-svc" and line["level"] == "INFO"
    assert line["trace_id"] == PARENT[3:35]
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["event_id"] == "ev-1" and line["receipt"] == "BDG-PBG-0001"


def test_outside_a_span_there_are_no_trace_fields(stream: io.StringIO) -> None:
    logging.getLogger("pantau.test").warning("idle")
    (line,) = lines(stream)
    assert "trace_id" not in line and "event_id" not in line


def test_json_lines_are_redacted_message_and_traceback(stream: io.StringIO) -> None:
    log = logging.getLogger("pantau.test")
    log.info("applicant NIK %s, HP %s", "3273014101900001", "081234567890")
    try:
        raise ValueError("bad phone 0812 3456 7890 of 3273014101900001")
    except ValueError:
        log.exception("failed for budi@contoh.id")
    text = stream.getvalue()
    for private in ("3273014101900001", "081234567890", "0812 3456 7890", "budi@contoh.id"):
        assert private not in text
    assert len(lines(stream)) == 2 and "exception" in lines(stream)[1]


def test_text_stays_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANTAU_LOG_FORMAT", raising=False)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("INFO", "svc")
        assert type(root.handlers[0].formatter) is logging.Formatter
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
