"""Logging setup with a last-line redaction filter: nothing that looks like an e-mail, NIK or phone
number is written to a log line, whatever the code above tried to log.

``PANTAU_LOG_FORMAT=json`` writes one JSON object a line: time, level, service, logger, message,
and — inside a traced span — ``trace_id``, ``span_id`` and the span's ``event_id`` / ``receipt``
(public identifiers; ``pantau_platform.tracing``). The redaction filter runs before either
formatter, so JSON lines are redacted exactly as text lines are.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from pantau_contracts.redaction import redact_text
from pantau_platform import tracing

_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill the process
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[0] is not None:
            # a traceback is formatted after filters run: format it now, redacted, and drop the
            # live exception so no handler formats the original text again
            record.exc_text = redact_text(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class AccessLogFilter(logging.Filter):
    """Drops query strings from uvicorn's access log: a citizen's search words (perhaps their
    own name or NIK) are not ours to keep."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the current span's trace ids and public identifiers."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname, "service": self.service, "logger": record.name,
            "message": record.getMessage()}
        trace_id, span_id = tracing.log_ids()
        if trace_id:
            attributes = tracing.current_attributes()
            line.update({"trace_id": trace_id, "span_id": span_id,
                         "event_id": attributes.get(tracing.EVENT_ID),
                         "receipt": attributes.get(tracing.RECEIPT)})
        if record.exc_info and record.exc_info[0] is not None:  # unfiltered handler: redact here
            record.exc_text = redact_text(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False,
                          default=str)


def configure(level: str = "INFO", service: str = "pantau", fmt: str | None = None) -> None:
    """Root logging to stderr, redacted; ``fmt`` "text" or "json" (default: PANTAU_LOG_FORMAT)."""
    fmt = fmt or os.environ.get("PANTAU_LOG_FORMAT", "text")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else logging.Formatter(
        f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").addFilter(AccessLogFilter())
