"""The portal's follow routes over a fake store: form, double opt-in, one-click unsubscribe."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from pantau_publishing.domain.record import case_document, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.follow import FollowRequests, digest
from pantau_publishing.service.follow_mail import MailContext
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader
from tests.unit.publishing.follow_fakes import FakeFollowStore

OPEN, CLOSED = "BDG-PBG-2026-000001", "BDG-PBG-2026-000002"
ADDRESS = "warga@example.com"


@pytest.fixture
def store() -> FakeFollowStore:
    return FakeFollowStore()


@pytest.fixture
def client(store: FakeFollowStore) -> TestClient:
    cases = [clean_case(public_case(OPEN, revision=2)), clean_case(public_case(CLOSED, revision=4))]
    app = create_app(PublishingSettings(), PublicRecords(FakeReader([case_document(c)
                                                                      for c in cases])))
    app.state.follow = FollowRequests(store, MailContext("http://testserver", "p@pantau.test"))
    return TestClient(app)


def confirm_token(store: FakeFollowStore) -> str:
    (mail,) = [m for m in store.outbox.values() if m.kind == "confirm"]
    message = email.message_from_bytes(mail.message, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return str(text.split("/ikuti/konfirmasi?token=", 1)[1].split()[0])


def test_an_open_case_page_has_the_follow_form_and_a_closed_one_not(client: TestClient) -> None:
    page = client.get(f"/kasus/{OPEN}").text
    assert f'action="/kasus/{OPEN}/ikuti"' in page and 'name="email"' in page
    assert "<script" not in page.split('id="follow"')[1].split("</section>")[0]
    assert 'id="follow"' not in client.get(f"/kasus/{CLOSED}").text


def test_follow_confirm_and_unsubscribe_with_forms_only(client: TestClient,
                                                         store: FakeFollowStore) -> None:
    answer = client.post(f"/kasus/{OPEN}/ikuti", data={"email": ADDRESS})
    assert answer.status_code == 202 and "Periksa kotak masuk" in answer.text
    assert ADDRESS not in answer.text
    token = confirm_token(store)
    page = client.get("/ikuti/konfirmasi", params={"token": token})
    assert page.status_code == 200 and 'id="confirm-button"' in page.text
    assert store.confirmed_followers(OPEN) == []  # a GET (a link scanner) confirms nothing
    done = client.post("/ikuti/konfirmasi", data={"token": token})
    assert done.status_code == 200 and store.confirmed_followers(OPEN)
    assert client.post("/ikuti/konfirmasi", data={"token": token}).status_code == 404
    unsubscribe_page = client.get("/ikuti/berhenti", params={"token": "x"})
    assert 'id="unsubscribe-button"' in unsubscribe_page.text


def test_a_re_request_answers_exactly_like_the_first(client: TestClient,
                                                      store: FakeFollowStore) -> None:
    first = client.post(f"/kasus/{OPEN}/ikuti", data={"email": ADDRESS})
    client.post("/ikuti/konfirmasi", data={"token": confirm_token(store)})
    again = client.post(f"/kasus/{OPEN}/ikuti", data={"email": ADDRESS})
    assert (again.status_code, again.text) == (first.status_code, first.text)


def test_bad_addresses_show_the_form_with_an_error_and_machines_get_problem_json(
        client: TestClient) -> None:
    answer = client.post(f"/kasus/{OPEN}/ikuti", data={"email": "not-an-address"})
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert "Alamat e-mail tidak valid" in answer.text
    english = client.post(f"/kasus/{OPEN}/ikuti?lang=en", data={"email": "x@"})
    assert "not a valid e-mail address" in english.text
    api = client.post(f"/api/v1/cases/{OPEN}/followers", json={"email": "nope"})
    assert api.status_code == 422
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["errors"][0]["field"] == "email"
    ok = client.post(f"/api/v1/cases/{OPEN}/followers", json={"email": "b@example.com"})
    assert ok.status_code == 202


def test_closed_and_unknown_cases_cannot_be_followed(client: TestClient) -> None:
    assert client.post(f"/kasus/{CLOSED}/ikuti", data={"email": ADDRESS}).status_code == 409
    assert client.post("/kasus/BDG-PBG-2026-999999/ikuti",
                       data={"email": ADDRESS}).status_code == 404
    api = client.post(f"/api/v1/cases/{CLOSED}/followers", json={"email": ADDRESS})
    assert api.status_code == 409 and api.json()["status"] == 409


def test_too_many_requests_answer_429_with_retry_after(client: TestClient) -> None:
    codes = [client.post(f"/kasus/{OPEN}/ikuti", data={"email": f"w{n}@example.com"})
             .status_code for n in range(12)]
    assert codes[:10] == [202] * 10 and codes[-1] == 429


def test_one_click_unsubscribe_is_a_bare_post_with_the_token_in_the_url(
        client: TestClient, store: FakeFollowStore) -> None:
    client.post(f"/kasus/{OPEN}/ikuti", data={"email": ADDRESS})
    client.post("/ikuti/konfirmasi", data={"token": confirm_token(store)})
    follower = store.confirmed_followers(OPEN)[0]
    store.tokens[digest("mail-token")] = follower.id  # as if an update mail had carried it
    answer = client.post("/ikuti/berhenti?token=mail-token",
                         content=b"List-Unsubscribe=One-Click",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200 and store.rows == {}
    unknown = client.post("/ikuti/berhenti?token=mail-token", content=b"")
    assert unknown.status_code == 200 and unknown.text == answer.text  # no oracle
