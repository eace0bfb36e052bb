"""The follow mails, composed: Bahasa Indonesia first, English below, as ``multipart/alternative``
(plain text + HTML) ``email.message.EmailMessage`` bytes ready for SMTP.

Contract: ``confirmation_mail`` asks the address to confirm (double opt-in) with a link;
``update_mail`` tells a confirmed follower the case's new public status (or that it became
overdue) and always carries the RFC 8058 one-click unsubscribe headers
(``List-Unsubscribe: <https://…/ikuti/berhenti?token=…>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``). Times are in the jurisdiction's zone
(WIB/WITA/WIT), written as the portal writes them (``domain.formatting``). Only public record
fields are used; the one personal datum in a message is its ``To`` address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from html import escape
from urllib.parse import urlencode

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.vocabulary import STATUS_LABELS, PublicStatus
from pantau_publishing.domain.formatting import long_time

CONFIRM_PATH = "/ikuti/konfirmasi"
UNSUBSCRIBE_PATH = "/ikuti/berhenti"


@dataclass(frozen=True)
class MailContext:
    """Where links point and who sends (``PANTAU_PUBLIC_BASE_URL``, ``PANTAU_MAIL_FROM``)."""

    base_url: str
    mail_from: str

    def case_url(self, receipt: str) -> str:
        return f"{self.base_url}/kasus/{receipt}"

    def token_url(self, path: str, token: str) -> str:
        return f"{self.base_url}{path}?{urlencode({'token': token})}"


def _label(status: str, lang: str) -> str:
    try:
        return str(STATUS_LABELS[PublicStatus(status)][lang])
    except (ValueError, KeyError):
        return status


def _message(context: MailContext, to: str, subject: str, text: str, html: str,
             now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = context.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    domain = context.mail_from.rpartition("@")[2].strip(">") or "pantau.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = "id, en"  # after set_content, which drops Content-* headers
    return message


def wire(message: EmailMessage) -> bytes:
    """The bytes as SMTP carries them: CRLF line ends (``smtplib`` sends bytes as they are, and
    a server reads bare-LF text as one over-long line)."""
    return message.as_bytes(policy=SMTP)


def _html(paragraphs_id: list[str], paragraphs_en: list[str], link: tuple[str, str, str]) -> str:
    url, label_id, label_en = link
    body_id = "".join(f"<p>{p}</p>" for p in paragraphs_id)
    body_en = "".join(f"<p>{p}</p>" for p in paragraphs_en)
    return (f'<!doctype html><html lang="id"><body style="font-family:sans-serif">'
            f'{body_id}<p><a href="{escape(url)}">{escape(label_id)}</a></p><hr>'
            f'<div lang="en">{body_en}<p><a href="{escape(url)}">{escape(label_en)}</a></p>'
            f"</div></body></html>")


def confirmation_mail(context: MailContext, case: PublicCaseV2, to: str, token: str,
                      now: datetime) -> EmailMessage:
    """The double opt-in mail: nothing is sent to ``to`` again unless its link is followed."""
    url = context.token_url(CONFIRM_PATH, token)
    r = case.receipt_number
    service_id, service_en = case.service_name.id, case.service_name.en
    text = (f"Seseorang (semoga Anda) ingin mengikuti kasus {r} ({service_id}) di Pantau.\n"
            f"Untuk menerima kabar setiap kali statusnya berubah, buka tautan ini dan tekan "
            f"tombol konfirmasi:\n\n{url}\n\n"
            f"Jika bukan Anda, abaikan e-mail ini: alamat Anda dihapus dalam 48 jam.\n\n"
            f"---\n\nSomeone (hopefully you) asked to follow case {r} ({service_en}) on "
            f"Pantau.\nTo be told each time its status changes, open this link and press the "
            f"confirm button:\n\n{url}\n\n"
            f"If it was not you, ignore this e-mail: your address is deleted within 48 hours.\n")
    html = _html(
        [f"Seseorang (semoga Anda) ingin mengikuti kasus <strong>{escape(r)}</strong> "
         f"({escape(service_id)}) di Pantau.",
         "Jika bukan Anda, abaikan e-mail ini: alamat Anda dihapus dalam 48 jam."],
        [f"Someone (hopefully you) asked to follow case <strong>{escape(r)}</strong> "
         f"({escape(service_en)}) on Pantau.",
         "If it was not you, ignore this e-mail: your address is deleted within 48 hours."],
        (url, "Konfirmasi: ikuti kasus ini", "Confirm: follow this case"))
    return _message(context, to, f"Konfirmasi: ikuti kasus {r} / Confirm: follow",
                    text, html, now)


def update_mail(context: MailContext, case: PublicCaseV2, to: str, unsubscribe_token: str,
                overdue: bool, now: datetime) -> EmailMessage:
    """One update: the new public status (``overdue``: the case just became late)."""
    r = case.receipt_number
    page = context.case_url(r)
    stop = context.token_url(UNSUBSCRIBE_PATH, unsubscribe_token)
    status_id, status_en = _label(case.status.value, "id"), _label(case.status.value, "en")
    at_id = long_time(case.updated_at, case.timezone, "id")
    at_en = long_time(case.updated_at, case.timezone, "en")
    dept_id, dept_en = case.department_name.id, case.department_name.en
    if overdue:
        head_id = f"Kasus {r} terlambat: melewati batas waktu layanan ({case.due_date})."
        head_en = f"Case {r} is overdue: it passed the service's legal deadline ({case.due_date})."
        subject = f"Kasus {r}: terlambat / overdue"
    else:
        head_id = f"Status kasus {r} berubah menjadi: {status_id}."
        head_en = f"The status of case {r} changed to: {status_en}."
        subject = f"Kasus {r}: {status_id} / {status_en}"
    lines_id = [head_id, f"Layanan: {case.service_name.id}", f"Instansi: {dept_id}, "
                f"{case.jurisdiction_name}", f"Status: {status_id}", f"Diperbarui: {at_id}"]
    lines_en = [head_en, f"Service: {case.service_name.en}", f"Department: {dept_en}, "
                f"{case.jurisdiction_name}", f"Status: {status_en}", f"Updated: {at_en}"]
    text = ("\n".join(lines_id) + f"\n\nLihat kasus: {page}\n"
            f"Berhenti mengikuti: {stop}\n\n---\n\n" + "\n".join(lines_en)
            + f"\n\nSee the case: {page}\nStop following: {stop}\n")
    html = _html([escape(line) for line in lines_id]
                 + [f'<a href="{escape(stop)}">Berhenti mengikuti kasus ini</a>'],
                 [escape(line) for line in lines_en]
                 + [f'<a href="{escape(stop)}">Stop following this case</a>'],
                 (page, f"Lihat kasus {r}", f"See case {r}"))
    message = _message(context, to, subject, text, html, now)
    message["List-Unsubscribe"] = f"<{stop}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
