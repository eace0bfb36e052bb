"""Followers' addresses stay private: after citizens follow cases (request, confirm) and the
mailer queues their updates, no address appears in the search index, a public page, a feed, an
export, an API answer or any log record — the addresses exist only in the citizen store and in
the mails to their owners (issue 9: "no personal data reaches any public page, feed or index").

Property-based over generated addresses, on the real Elasticsearch and a real SQLite citizen
store; log records are captured at DEBUG from every logger, before any redacting filter, so the
test proves nothing logs an address rather than that the filter masks it.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.adapters.citizen_store import SqlFollowStore
from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.follow import (
    FollowRequests,
    InvalidAddress,
    NotifyFollowers,
    normalise_address,
)
from pantau_publishing.service.follow_mail import MailContext
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.integration.publishing.conftest import SearchStack
from tests.unit.publishing.factories import case_updated, public_case

pytestmark = pytest.mark.integration


def _valid(address: str) -> bool:
    try:
        return normalise_address(address) == address
    except InvalidAddress:
        return False


addresses = st.from_regex(r"[a-z][a-z0-9._+-]{2,20}@[a-z]{3,10}\.(go\.id|co\.id|com|id)",
                          fullmatch=True).filter(_valid)


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(emails=st.lists(addresses, min_size=1, max_size=3, unique=True))
def test_follower_addresses_never_reach_index_pages_feeds_exports_or_logs(
        search: SearchStack, tmp_path: Path, emails: list[str]) -> None:
    root = logging.getLogger()
    handler, level = Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        _run(search, tmp_path, emails, handler)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _run(search: SearchStack, tmp_path: Path, emails: list[str], logs: Everything) -> None:
    receipts = [f"FOL-{abs(hash(address)) % 10**8:08d}-{n}" for n, address in enumerate(emails)]
    IndexBatch(EsSearchIndex(search.es, search.aliases)).handle(
        [ReceivedMessage(case_updated(public_case(r, revision=1))) for r in receipts])
    search.refresh()
    store = SqlFollowStore(f"sqlite:///{tmp_path / f'citizen-{receipts[0]}.sqlite3'}")
    app = create_app(PublishingSettings(),
                     PublicRecords(EsCaseReader(search.es, search.aliases)))
    app.state.follow = FollowRequests(store, MailContext("http://testserver", "p@pantau.test"))
    client = TestClient(app)
    for receipt, address in zip(receipts, emails, strict=True):
        assert client.post(f"/kasus/{receipt}/ikuti", data={"email": address}).status_code == 202
        assert client.post(f"/api/v1/cases/{receipt}/followers",
                           json={"email": address}).status_code == 202
        (mail,) = [m for m in store.due_mail(2e9, 100) if m.address == address]
        message = email.message_from_bytes(mail.message, policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        token = text.split("/ikuti/konfirmasi?token=", 1)[1].split()[0]
        assert client.post("/ikuti/konfirmasi", data={"token": token}).status_code == 200
        store.mark_sent(mail, 1e9)
    NotifyFollowers(store, MailContext("http://testserver", "p@pantau.test")).handle(
        [PublicCaseV2.model_validate(public_case(r, revision=2)) for r in receipts], 2e9)
    assert len(store.due_mail(3e9, 100)) == len(emails)  # the updates exist (to their owners)
    search.refresh()

    stored = search.es.search(index=f"{search.aliases.cases},{search.aliases.changes}",
                              size=1000, query={"match_all": {}})
    outputs: list[Any] = [json.dumps([h["_source"] for h in stored["hits"]["hits"]])]
    outputs += [client.get("/feed.atom").text, client.get("/feed.json").text,
                client.get("/export/cases.csv").text, client.get("/export/cases.ndjson").text,
                client.get("/api/v1/cases", params={"size": "100"}).text]
    for receipt in receipts:
        outputs += [client.get(f"/kasus/{receipt}").text,
                    client.get(f"/api/v1/cases/{receipt}").text,
                    client.get(f"/feeds/case/{receipt}.json").text,
                    client.get(f"/feeds/case/{receipt}.atom").text]
    combined = "\n".join([*outputs, *logs.lines]).lower()
    assert all(r.lower() in combined for r in receipts)  # the records themselves are there
    for address in emails:
        assert address not in combined, f"leaked {address!r}"
        assert address.split("@")[0] + "@" not in combined, f"leaked {address!r}"
    store.dispose()
