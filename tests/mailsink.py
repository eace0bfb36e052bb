"""Reading the local SMTP sink (``infra/lib/smtp.sh``: aiosmtpd writing a maildir) in tests.

``SINK`` is where the stack's sink listens (``PANTAU_SMTP_HOST``/``_PORT``) and ``MAIL_DIR`` the
maildir it writes (``PANTAU_MAIL_DIR``, default ``.state/mail``); ``messages_to(address)`` parses
every message delivered to that address, oldest first. Tests use unique addresses, so the one
shared sink serves every test at once.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
from email.message import EmailMessage
from pathlib import Path

from tests.conftest import REPO

SMTP_HOST = os.environ.get("PANTAU_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("PANTAU_SMTP_PORT", "1025"))
SINK = f"smtp://{SMTP_HOST}:{SMTP_PORT}"
MAIL_DIR = Path(os.environ.get("PANTAU_MAIL_DIR", str(REPO / ".state" / "mail")))


def messages_to(address: str) -> list[EmailMessage]:
    if not (MAIL_DIR / "new").is_dir():
        return []
    found = []
    for key, raw in mailbox.Maildir(MAIL_DIR, factory=None, create=False).iteritems():
        message = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        if address in str(message.get("To", "")):
            found.append((os.path.getmtime(MAIL_DIR / _subdir(MAIL_DIR, key)), message))
    return [message for _, message in sorted(found, key=lambda pair: pair[0])
            if isinstance(message, EmailMessage)]


def _subdir(root: Path, key: str) -> str:
    for sub in ("new", "cur"):
        for path in (root / sub).glob(f"{key}*"):
            return str(path.relative_to(root))
    return "new"
