"""Log lines never carry personal data: the redacting filter and the access-log filter."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pantau_platform.logging import AccessLogFilter, configure


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure("INFO", "test")
    for handler_filter in root.handlers[0].filters:
        caplog.handler.addFilter(handler_filter)
    yield caplog
    root.handlers[:], level = saved
    root.setLevel(level)


def test_personal_data_is_redacted_from_any_log_line(captured: pytest.LogCaptureFixture) -> None:
    logging.getLogger("pantau.test").info("applicant %s, NIK %s, HP %s", "budi@contoh.id",
                                          "3273014101900001", "081234567890")
    text = captured.records[-1].getMessage()
    assert "3273014101900001" not in text and "081234567890" not in text
    assert "budi@contoh.id" not in text


def test_access_log_keeps_the_path_but_not_the_query() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/?q=Siti+Aminah", "1.1", 200), None)
    assert AccessLogFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET / HTTP/1.1" 200'


def test_tracebacks_are_redacted_too(captured: pytest.LogCaptureFixture) -> None:
    try:
        raise ValueError("nik 3273012345678901 budi@example.com")
    except ValueError:
        logging.getLogger("pantau.test").warning("batch failed", exc_info=True)
    record = captured.records[-1]
    assert record.exc_info is None and record.exc_text
    assert "3273012345678901" not in record.exc_text and "budi@example.com" not in record.exc_text
    assert "ValueError" in record.exc_text  # the traceback itself is kept
