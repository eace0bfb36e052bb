"""Following a case by e-mail: the use cases over hand-written fakes (``follow_fakes``)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.service.follow import (
    AFTER_CLOSE,
    HOUR,
    PENDING_LIFETIME,
    CaseNotFollowable,
    FollowLimits,
    FollowRequests,
    InvalidAddress,
    NotifyFollowers,
    SendOutbox,
    TooManyRequests,
    decode_cases,
    digest,
    normalise_address,
)
from pantau_publishing.service.follow_mail import MailContext
from pantau_publishing.service.ports import MailRejected, MailUnavailable
from tests.unit.publishing.factories import case_updated, public_case
from tests.unit.publishing.follow_fakes import FakeFollowStore, FakeTransport

CONTEXT = MailContext("https://pantau.example.go.id", "Pantau <noreply@pantau.example.go.id>")
RECEIPT = "BDG-PBG-2026-000123"
ADDRESS = "warga@example.com"
NOW = 1_780_000_000.0


def case(revision: int = 1, **kwargs: Any) -> PublicCaseV2:
    return PublicCaseV2.model_validate(public_case(RECEIPT, revision=revision, **kwargs))


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def token_from(message: EmailMessage, path: str) -> str:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    marker = f"{path}?token="
    return text.split(marker, 1)[1].split()[0]


def follow(store: FakeFollowStore, *, address: str = ADDRESS, revision: int = 1,
           **kwargs: Any) -> None:
    """Request and confirm as a citizen would (the token read from the mail)."""
    requests = FollowRequests(store, CONTEXT)
    current = case(revision, **kwargs)
    requests.request(current, address, "198.51.100.7", NOW)
    mail = next(m for m in store.outbox.values() if m.kind == "confirm" and m.address == address)
    token = token_from(parse(mail.message), "/ikuti/konfirmasi")
    assert requests.confirm(token, current, NOW + 60)
    store.outbox.pop(next(k for k, m in store.outbox.items() if m.id == mail.id))


# --- addresses --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["warga@example.com", " Warga.Satu+pantau@Mail.Example.CO.ID "])
def test_plain_addresses_are_accepted_and_lower_cased(raw: str) -> None:
    assert normalise_address(raw) == raw.strip().lower()


@pytest.mark.parametrize("raw", ["", "warga", "warga@", "@example.com", "a@b", "a@@b.com",
                                 "Warga <warga@example.com>", "warga@example.com\r\nBcc: x@y.z",
                                 "a b@example.com", '"x"@example.com', "a@-bad-.com",
                                 "a@example.123", "a@exa_mple.com", "x" * 65 + "@example.com",
                                 "a@" + "b" * 250 + ".com", "a,b@example.com"])
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(raw)


@given(st.text(max_size=80))
def test_an_accepted_address_can_never_inject_a_header(raw: str) -> None:
    try:
        address = normalise_address(raw)
    except InvalidAddress:
        return
    assert not set(address) & set("\r\n<>,;:\" \t()[]\\")
    assert address.count("@") == 1


# --- request, confirm, unsubscribe --------------------------------------------------------------

def test_a_request_stores_a_pending_follower_and_a_confirmation_mail_only() -> None:
    store = FakeFollowStore()
    FollowRequests(store, CONTEXT).request(case(), "Warga@Example.com", "198.51.100.7", NOW)
    (follower,) = [r.follower for r in store.rows.values()]
    assert (follower.address, follower.confirmed) == (ADDRESS, False)
    (mail,) = store.outbox.values()
    message = parse(mail.message)
    assert mail.kind == "confirm" and message["To"] == ADDRESS
    token = token_from(message, "/ikuti/konfirmasi")
    row = store.rows[follower.id]
    assert row.confirm_hash == digest(token) and token not in str(row)  # only the hash kept
    assert row.purge_after == NOW + PENDING_LIFETIME
    assert "Konfirmasi" in message["Subject"] and "Confirm" in message["Subject"]
    assert message.get_body(("html",)) is not None


def test_confirming_needs_the_token_of_that_case_and_works_once() -> None:
    store = FakeFollowStore()
    requests = FollowRequests(store, CONTEXT)
    requests.request(case(), ADDRESS, "ip", NOW)
    token = token_from(parse(next(iter(store.outbox.values())).message), "/ikuti/konfirmasi")
    other = PublicCaseV2.model_validate(public_case("BDG-PBG-2026-000999"))
    assert not requests.confirm("wrong", case(), NOW)
    assert not requests.confirm(token, other, NOW)
    assert not requests.confirm(token, case(), NOW + PENDING_LIFETIME + 1)  # expired
    assert requests.confirm(token, case(revision=2), NOW + 10)
    assert not requests.confirm(token, case(), NOW + 20)  # used
    (follower,) = store.confirmed_followers(RECEIPT)
    assert (follower.notified_revision, follower.notified_status) == (2, "verifikasi")


def test_a_re_request_for_a_follower_looks_the_same_and_mails_nothing() -> None:
    store = FakeFollowStore()
    follow(store)
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "ip", NOW + 100)  # no error
    assert store.outbox == {}


def test_closed_and_withdrawn_cases_cannot_be_followed() -> None:
    requests = FollowRequests(FakeFollowStore(), CONTEXT)
    for closed in (case(4), case(2, status="ditolak"), case(2, withdrawn=True)):
        with pytest.raises(CaseNotFollowable):
            requests.request(closed, ADDRESS, "ip", NOW)


def test_rate_limits_per_ip_address_and_receipt_and_pending_bound() -> None:
    limits = FollowLimits(per_ip=3, per_address=2, per_receipt=100, pending_per_receipt=100)
    requests = FollowRequests(FakeFollowStore(), CONTEXT, limits)
    for n in range(3):
        requests.request(case(), f"w{n}@example.com", "ip-1", NOW)
    with pytest.raises(TooManyRequests):
        requests.request(case(), "w9@example.com", "ip-1", NOW)
    requests.request(case(), "again@example.com", "ip-2", NOW)
    requests.request(case(), "again@example.com", "ip-3", NOW)
    with pytest.raises(TooManyRequests):
        requests.request(case(), "again@example.com", "ip-4", NOW)  # one inbox
    requests.request(case(), "again@example.com", "ip-5", NOW + HOUR + 1)  # window moved on
    bounded = FollowRequests(FakeFollowStore(), CONTEXT, FollowLimits(pending_per_receipt=2))
    bounded.request(case(), "a@example.com", "a", NOW)
    bounded.request(case(), "b@example.com", "b", NOW)
    with pytest.raises(TooManyRequests):
        bounded.request(case(), "c@example.com", "c", NOW)


def test_rate_limit_keys_never_hold_the_address_or_ip_in_clear() -> None:
    store = FakeFollowStore()
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "198.51.100.7", NOW)
    keys = " ".join(key for key, _ in store.hits)
    assert ADDRESS not in keys and "198.51.100.7" not in keys


# --- notifying ----------------------------------------------------------------------------------

def updates(store: FakeFollowStore) -> list[EmailMessage]:
    return [parse(m.message) for m in store.outbox.values() if m.kind == "update"]


def test_one_mail_per_public_status_change_in_both_languages_with_one_click_unsubscribe(
) -> None:
    store = FakeFollowStore()
    follow(store)
    notify = NotifyFollowers(store, CONTEXT)
    assert notify.handle([case(2)], NOW) == 1  # diterima -> verifikasi
    (message,) = updates(store)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, html):
        assert "Verifikasi" in part and "Verification" in part
        assert RECEIPT in part and "Persetujuan PBG" in part and "PBG permit" in part
        assert "WIB" in part and "https://pantau.example.go.id/kasus/" + RECEIPT in part
    assert text.index("Status kasus") < text.index("The status of case")  # Indonesian first
    token = token_from(message, "/ikuti/berhenti")
    assert message["List-Unsubscribe"] == (
        f"<https://pantau.example.go.id/ikuti/berhenti?token={token}>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert store.tokens[digest(token)] == next(iter(store.rows))


def test_redeliveries_and_older_revisions_never_mail_twice_or_go_back() -> None:
    store = FakeFollowStore()
    follow(store)
    notify = NotifyFollowers(store, CONTEXT)
    assert notify.handle([case(3)], NOW) == 1  # diproses
    store.outbox.clear()
    assert notify.handle([case(3), case(2), case(1)], NOW) == 0
    assert store.outbox == {}
    assert store.confirmed_followers(RECEIPT)[0].notified_revision == 3


def test_a_batch_with_several_revisions_tells_only_the_newest() -> None:
    store = FakeFollowStore()
    follow(store)
    assert NotifyFollowers(store, CONTEXT).handle([case(3), case(2)], NOW) == 1
    (message,) = updates(store)
    assert "Diproses" in message["Subject"] and "In process" in message["Subject"]


def test_a_change_that_keeps_the_public_status_mails_nothing_but_overdue_does() -> None:
    store = FakeFollowStore()
    follow(store, revision=3)
    notify = NotifyFollowers(store, CONTEXT)
    assert notify.handle([case(4, steps=3, status="diproses")], NOW) == 0  # same status
    assert notify.handle([case(5, steps=3, status="diproses", overdue=True)], NOW) == 1
    (message,) = updates(store)
    assert "terlambat" in message["Subject"] and "overdue" in message["Subject"]
    store.outbox.clear()
    assert notify.handle([case(6, steps=3, status="diproses", overdue=True)], NOW) == 0


def test_pending_followers_hear_nothing() -> None:
    store = FakeFollowStore()
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "ip", NOW)
    assert NotifyFollowers(store, CONTEXT).handle([case(2)], NOW) == 0


def test_a_closed_case_schedules_the_purge_30_days_after_closing() -> None:
    store = FakeFollowStore()
    follow(store)
    closed = case(4)
    NotifyFollowers(store, CONTEXT).handle([closed], NOW)
    assert closed.closed_at is not None
    purge_at = closed.closed_at.timestamp() + AFTER_CLOSE
    assert store.purge(purge_at - 1) == 0
    assert store.purge(purge_at + 1) == 1
    assert store.rows == {} and store.tokens == {}


def test_unconfirmed_followers_are_purged_after_48_hours() -> None:
    store = FakeFollowStore()
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "ip", NOW)
    assert store.purge(NOW + PENDING_LIFETIME - 1) == 0
    assert store.purge(NOW + PENDING_LIFETIME + 1) == 1


def test_unsubscribe_with_any_mails_token_deletes_the_follower_at_once() -> None:
    store = FakeFollowStore()
    follow(store)
    notify = NotifyFollowers(store, CONTEXT)
    notify.handle([case(2)], NOW)
    first = token_from(updates(store)[0], "/ikuti/berhenti")
    notify.handle([case(3)], NOW)
    requests = FollowRequests(store, CONTEXT)
    assert requests.unsubscribe(first)  # an older mail's link still works
    assert store.rows == {} and store.outbox == {}
    assert not requests.unsubscribe(first) and not requests.unsubscribe("")
    assert notify.handle([case(4)], NOW) == 0


# --- sending ------------------------------------------------------------------------------------

def test_a_mail_leaves_the_outbox_only_once_the_server_accepted_it() -> None:
    store = FakeFollowStore()
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "ip", NOW)
    transport = FakeTransport(fail_with=[MailUnavailable("421")])
    outbox = SendOutbox(store, transport)
    assert outbox.run(NOW).failed == 1 and len(store.outbox) == 1
    assert outbox.run(NOW + 1).sent == 0  # backing off
    assert outbox.run(NOW + 31).sent == 1
    assert store.outbox == {} and transport.sent[0][0] == ADDRESS


def test_a_permanent_refusal_drops_the_mail_and_retries_give_up_eventually() -> None:
    store = FakeFollowStore()
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "ip", NOW)
    assert SendOutbox(store, FakeTransport(fail_with=[MailRejected("550")])).run(NOW).dropped
    store2 = FakeFollowStore()
    FollowRequests(store2, CONTEXT).request(case(), ADDRESS, "ip", NOW)
    transport = FakeTransport(fail_with=[MailUnavailable("down")] * 20)
    outbox, now = SendOutbox(store2, transport, FollowLimits(max_attempts=3)), NOW
    for _ in range(3):
        outbox.run(now)
        now += 10 * HOUR
    assert store2.outbox == {} and transport.sent == []


def test_updates_past_the_hourly_limit_are_coalesced_into_the_latest_status() -> None:
    store = FakeFollowStore()
    follow(store)
    notify = NotifyFollowers(store, CONTEXT)
    transport = FakeTransport()
    outbox = SendOutbox(store, transport, FollowLimits(updates_per_hour=1))
    notify.handle([case(2)], NOW)
    assert outbox.run(NOW).sent == 1
    notify.handle([case(3)], NOW + 10)  # diproses: over the limit, waits
    assert outbox.run(NOW + 10).deferred == 1
    notify.handle([case(4)], NOW + 20)  # selesai replaces the waiting mail
    assert outbox.run(NOW + 30).sent == 0
    assert outbox.run(NOW + HOUR + 1).sent == 1
    subjects = [parse(raw)["Subject"] for _, raw in transport.sent]
    assert len(subjects) == 2 and "Selesai" in subjects[1] and "Completed" in subjects[1]


def test_confirmation_mails_are_not_held_by_the_update_limit() -> None:
    store = FakeFollowStore()
    store.sends += [(digest(ADDRESS), NOW)] * 10
    FollowRequests(store, CONTEXT).request(case(), ADDRESS, "ip", NOW)
    assert SendOutbox(store, FakeTransport()).run(NOW).sent == 1


# --- decoding -----------------------------------------------------------------------------------

def test_decode_takes_case_updated_and_dead_letters_garbage() -> None:
    cases, poison = decode_cases([case_updated(public_case(RECEIPT, revision=2)), b"{nope"])
    assert [c.revision for c in cases] == [2]
    assert list(poison) == [1] and poison[1]["reason"] == "contract-violation"


def test_a_batch_validates_only_what_a_follower_waits_for() -> None:
    store = FakeFollowStore()
    follow(store)
    lookups: list[set[str]] = []
    followed = store.followed
    store.followed = lambda receipts: lookups.append(set(receipts)) or followed(receipts)  # type: ignore[method-assign]
    other = public_case("BDG-PBG-2026-000999", revision=2)
    broken_unfollowed = case_updated(other).replace(b'"revision": 2', b'"revision": "x"')
    assert broken_unfollowed != case_updated(other)
    bodies = [case_updated(public_case("BDG-PBG-2026-000998", revision=3)), broken_unfollowed,
              b"{nope", case_updated(public_case(RECEIPT, revision=2))]
    queued, poison = NotifyFollowers(store, CONTEXT).handle_messages(bodies, NOW)
    assert queued == 1
    # the unreadable one is validated (and refused); the broken one nobody follows is left to
    # the indexer, which reads the same events
    assert list(poison) == [2]
    assert lookups[0] == {RECEIPT, "BDG-PBG-2026-000998", "BDG-PBG-2026-000999"}


def test_queued_mail_is_smtp_safe_bytes_crlf_and_short_lines() -> None:
    """smtplib sends bytes as they are: bare LF reads as one over-long line to a server (the
    sink answered 500 before the mails were written with the SMTP policy)."""
    store = FakeFollowStore()
    follow(store)
    NotifyFollowers(store, CONTEXT).handle([case(2)], NOW)
    FollowRequests(store, CONTEXT).request(case(2), "other@example.com", "ip", NOW)
    for mail in store.outbox.values():
        lines = mail.message.split(b"\r\n")
        assert all(b"\n" not in line and len(line) <= 998 for line in lines), mail.kind
