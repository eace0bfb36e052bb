"""The SQL follow store on SQLite and PostgreSQL, and the mailer against the real SMTP sink.

The store: the same behaviour as the unit tests' fake (request, confirm, notify with a
compare-and-set, coalescing, limits, purge). The mailer: a real process consuming its own
work queue, sending through the stack's SMTP sink (``infra/lib/smtp.sh``), whose maildir the
test reads; a redelivered event mails nothing more; garbage is dead-lettered.
"""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.adapters.citizen_store import SqlFollowStore
from pantau_publishing.adapters.smtp import SmtpConfig, SmtpTransport
from pantau_publishing.service.follow import (
    AFTER_CLOSE,
    PENDING_LIFETIME,
    FollowRequests,
    NotifyFollowers,
    digest,
)
from pantau_publishing.service.follow_mail import MailContext
from pantau_publishing.service.ports import CaseState, MailRejected, MailUnavailable
from tests.conftest import WorkQueues, database_urls, wait_for, work_queues
from tests.mailsink import SMTP_HOST, SMTP_PORT, messages_to
from tests.unit.publishing.factories import case_updated, public_case

pytestmark = pytest.mark.integration
CONTEXT = MailContext("http://127.0.0.1:8000", "Pantau <noreply@pantau.test>")
NOW = 1_772_500_000.0  # 2026-03-03, while the factory's cases run


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlFollowStore]:
    for url in database_urls(request, tmp_path, "citizen", "c"):
        made = SqlFollowStore(url)
        yield made
        made.dispose()


@pytest.fixture(scope="session")
def smtp_sink() -> str:
    """The stack's SMTP sink; not reachable is a FAILURE (like every other stack server)."""
    try:
        with socket.create_connection((SMTP_HOST, SMTP_PORT), timeout=2):
            return f"{SMTP_HOST}:{SMTP_PORT}"
    except OSError:
        pytest.fail(f"the SMTP sink is not reachable at {SMTP_HOST}:{SMTP_PORT}; start the "
                    "stack with `infra/stack.sh up`")


def receipt() -> str:
    return f"FLW-{uuid.uuid4().hex[:6].upper()}-2026"


def case(number: str, revision: int, **kwargs: Any) -> PublicCaseV2:
    return PublicCaseV2.model_validate(public_case(number, revision=revision, **kwargs))


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def token_in(raw: bytes, path: str) -> str:
    text = parse(raw).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return str(text.split(f"{path}?token=", 1)[1].split()[0])


def confirmed(store: SqlFollowStore, number: str, address: str, revision: int = 1) -> None:
    requests = FollowRequests(store, CONTEXT)
    requests.request(case(number, revision), address, "192.0.2.1", NOW)
    (mail,) = [m for m in store.due_mail(NOW, 100) if m.address == address]
    assert requests.confirm(token_in(mail.message, "/ikuti/konfirmasi"), case(number, revision),
                            NOW + 1)
    store.mark_sent(mail, NOW + 1)


def test_request_confirm_notify_coalesce_unsubscribe_and_purge(store: SqlFollowStore) -> None:
    number, address = receipt(), f"{uuid.uuid4().hex[:8]}@example.com"
    requests = FollowRequests(store, CONTEXT)
    requests.request(case(number, 1), address, "192.0.2.1", NOW)
    requests.request(case(number, 1), address, "192.0.2.1", NOW + 5)  # re-request: one row
    assert store.pending_count(number) == 1
    (mail,) = store.due_mail(NOW + 5, 100)
    assert mail.kind == "confirm"
    token = token_in(mail.message, "/ikuti/konfirmasi")
    assert requests.confirm(token, case(number, 2), NOW + 10)
    store.mark_sent(mail, NOW + 10)
    assert store.due_mail(NOW + 10, 100) == []
    (follower,) = store.confirmed_followers(number)
    assert (follower.notified_revision, follower.notified_status) == (2, "verifikasi")

    notify = NotifyFollowers(store, CONTEXT)
    assert notify.handle([case(number, 3)], NOW + 20) == 1
    assert notify.handle([case(number, 3), case(number, 2)], NOW + 21) == 0  # redelivered
    (first,) = store.due_mail(NOW + 30, 100)
    assert not store.record_notification(follower, CaseState(99, "diproses", False), None,
                                         NOW)  # a stale compare-and-set loses
    assert notify.handle([case(number, 4)], NOW + 40) == 1  # replaces the unsent update
    (latest,) = store.due_mail(NOW + 40, 100)
    assert latest.id == first.id or latest.message != first.message
    assert "Selesai" in parse(latest.message)["Subject"]
    assert store.sent_count(address, NOW) == (0, None)
    store.mark_sent(latest, NOW + 41)
    assert store.sent_count(address, NOW)[0] == 1

    unsubscribe = token_in(latest.message, "/ikuti/berhenti")
    # closed: the purge is 30 days after closing
    closed = case(number, 4).closed_at
    assert closed is not None
    assert store.purge(closed.timestamp() + AFTER_CLOSE - 10) == 0
    assert requests.unsubscribe(unsubscribe)
    assert store.confirmed_followers(number) == [] and not requests.unsubscribe(unsubscribe)


def test_pending_are_purged_after_48_hours_and_closed_cases_after_30_days(
        store: SqlFollowStore) -> None:
    pending, closing = receipt(), receipt()
    FollowRequests(store, CONTEXT).request(case(pending, 1), "p@example.com", "ip", NOW)
    confirmed(store, closing, "c@example.com")
    NotifyFollowers(store, CONTEXT).handle([case(closing, 4)], NOW + 100)
    assert store.purge(NOW + PENDING_LIFETIME - 1) == 0
    assert store.purge(NOW + PENDING_LIFETIME + 1) == 1
    assert store.confirmed_followers(closing)
    assert store.purge(NOW + AFTER_CLOSE + 10 * 86400) == 1
    assert store.confirmed_followers(closing) == [] and store.due_mail(NOW * 2, 100) == []


def test_hits_count_within_the_window_per_key(store: SqlFollowStore) -> None:
    key = f"ip:{digest(uuid.uuid4().hex)}"
    for offset in range(3):
        counts = store.count_hits([key], NOW + offset, 3600)
    assert counts == {key: 3}
    assert store.count_hits([key], NOW + 7200, 3600) == {key: 1}


# --- the SMTP transport and the mailer process, against the real sink --------------------------

def test_the_transport_hands_mail_to_the_sink_and_reports_failures(smtp_sink: str) -> None:
    address = f"t-{uuid.uuid4().hex[:8]}@example.com"
    transport = SmtpTransport(SmtpConfig(host=SMTP_HOST, port=SMTP_PORT))
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = address, "p@pantau.test", "halo"
    message.set_content("isi")
    transport.send(address, bytes(message))
    (received,) = wait_for(lambda: messages_to(address), message="the mail in the sink")
    assert received["Subject"] == "halo"
    closed_port = socket.socket()
    closed_port.bind(("127.0.0.1", 0))
    port = closed_port.getsockname()[1]
    closed_port.close()
    with pytest.raises(MailUnavailable) as caught:
        SmtpTransport(SmtpConfig(host="127.0.0.1", port=port, timeout=2)).send(address, b"x")
    assert address not in str(caught.value)
    assert issubclass(MailRejected, Exception)


@pytest.fixture
def queues(amqp_url: str) -> Iterator[WorkQueues]:
    with work_queues(amqp_url, "follow") as names:
        yield names


def publish(amqp_url: str, queue: str, bodies: list[bytes]) -> None:
    with Connection(amqp_url) as conn:
        producer = conn.Producer()
        for body in bodies:
            producer.publish(body, exchange="", routing_key=queue, delivery_mode=2,
                             content_type="application/cloudevents+json")


def test_the_mailer_mails_each_status_change_once_through_the_sink(
        amqp_url: str, queues: WorkQueues, smtp_sink: str, tmp_path: Path,
        start_service: Callable[..., Any]) -> None:
    url = f"sqlite:///{tmp_path / 'citizen.sqlite3'}"
    store = SqlFollowStore(url)
    number, address = receipt(), f"m-{uuid.uuid4().hex[:8]}@example.com"
    confirmed(store, number, address)
    mailer = start_service("pantau_publishing.mailer", PANTAU_FOLLOW_QUEUE=queues.work,
                           PANTAU_CITIZEN_DATABASE_URL=url, PANTAU_SMTP_HOST=SMTP_HOST,
                           PANTAU_SMTP_PORT=str(SMTP_PORT), PANTAU_MAILER_HEALTH_PORT="0",
                           PANTAU_MAILER_METRICS_PORT="0")
    record = public_case(number, revision=2)
    publish(amqp_url, queues.work, [case_updated(record), case_updated(record), b"{nope"])
    (update,) = wait_for(lambda: messages_to(address), timeout=30,
                         message="the update mail\n" + mailer.log())
    assert "Verifikasi" in update["Subject"] and update["List-Unsubscribe-Post"]
    assert update.get_content_type() == "multipart/alternative"

    def dead_lettered() -> bool:
        with Connection(amqp_url) as conn:
            message = conn.default_channel.basic_get(queues.dead, no_ack=True)
            return message is not None
    wait_for(dead_lettered, timeout=20, message="the garbage dead-lettered")
    publish(amqp_url, queues.work, [case_updated(public_case(number, revision=3))])
    wait_for(lambda: len(messages_to(address)) == 2, timeout=30, message="the second update")
    assert [m["Subject"].strip().split(" / ")[0] for m in messages_to(address)] == [
        f"Kasus {number}: Verifikasi", f"Kasus {number}: Diproses"]  # once each, in order
    assert address not in mailer.log()
    store.dispose()
