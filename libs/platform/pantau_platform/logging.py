"""Logging setup with a last-line redaction filter: nothing that looks like an e-mail, NIK or phone
number is written to a log line, whatever the code above tried to log."""

from __future__ import annotations

import logging
import sys

from pantau_contracts.redaction import redact_text

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


def configure(level: str = "INFO", service: str = "pantau") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").addFilter(AccessLogFilter())
