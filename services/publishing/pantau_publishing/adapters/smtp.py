"""``MailTransport`` over a real SMTP server (``smtplib``): ``PANTAU_SMTP_HOST``/``_PORT``,
optional ``_USERNAME``/``_PASSWORD`` (AUTH) and ``_STARTTLS``; envelope sender
``PANTAU_MAIL_FROM``. Development: the local sink of ``infra/lib/smtp.sh`` on 127.0.0.1:1025.

``send`` returns only once the server accepted the message for the recipient (a 2xx to DATA).
A 5xx (or the recipient refused) is ``MailRejected``; a connection failure, a timeout or a 4xx
is ``MailUnavailable``. Error texts carry the SMTP code only: a server's reply may quote the
address, and no address may reach a log line.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.utils import parseaddr

from pantau_publishing.service.ports import MailRejected, MailUnavailable


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 1025
    username: str = ""
    password: str = ""
    starttls: bool = False
    mail_from: str = "Pantau <noreply@pantau.invalid>"
    timeout: float = 30.0


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.sender = parseaddr(config.mail_from)[1] or config.mail_from

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            client.ehlo()
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if config.username:
                client.login(config.username, config.password)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, address: str, message: bytes) -> None:
        try:
            client = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise MailUnavailable(f"SMTP authentication failed ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"SMTP server unreachable ({type(exc).__name__})") from None
        try:
            client.sendmail(self.sender, [address], message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if any(400 <= code < 500 for code in codes):
                raise MailUnavailable(f"recipient deferred ({codes})") from None
            raise MailRejected(f"recipient refused ({codes})") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise MailRejected(f"SMTP {exc.smtp_code}") from None
            raise MailUnavailable(f"SMTP {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"SMTP failed ({type(exc).__name__})") from None
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
