"""The webhook rules (``domain.webhooks``) and the delivery tick (``service.webhook_delivery``)
with hand-written fakes: back-off, dead after 24 h, 4xx/3xx dead at once, per-case order,
signatures a department verifies with ``pantau_client.verify_webhook``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_client.webhooks import WebhookVerificationError, verify_webhook
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.webhooks import (
    Attempt,
    Backoff,
    NewDelivery,
    Webhook,
    WebhookError,
    check_url,
    parse_subscriptions,
    settle,
)
from pantau_intake.service.webhook_delivery import WebhookDispatcher
from tests.unit.intake.outcome_fakes import FakeKeys, FakeOutcomeStore, ScriptedPoster

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DEPT = DepartmentRef("kota-bandung", "dpmptsp")
OTHER = DepartmentRef("kota-bandung", "disdukcapil")
URL, SLOW_URL = "https://dpmptsp.example/hooks/pantau?x=1", "https://dukcapil.example/h"
SECRET = "s3cret-dpmptsp-xxxxxxxx"
BACKOFF = Backoff()


def no_dns(host: str) -> list[str]:
    return {"dpmptsp.example": ["93.184.215.14"], "intranet.example": ["10.0.0.5"]}[host]


def test_back_off_doubles_from_10_s_to_a_1_h_cap_with_jitter_in_the_upper_half() -> None:
    assert BACKOFF.delay(1, 1.0) == timedelta(seconds=10)
    assert BACKOFF.delay(1, 0.0) == timedelta(seconds=5)
    assert BACKOFF.delay(4, 1.0) == timedelta(seconds=80)
    assert BACKOFF.delay(30, 1.0) == timedelta(hours=1)


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=0.999))
def test_the_back_off_never_exceeds_its_cap_nor_falls_below_half(n: int, jitter: float) -> None:
    ceiling = min(BACKOFF.cap, BACKOFF.base * 2 ** min(n - 1, 30))
    assert ceiling / 2 <= BACKOFF.delay(n, jitter) <= ceiling


def test_a_failing_receiver_is_retried_for_at_least_24_h_then_the_delivery_is_dead() -> None:
    now, attempts = T0, 0
    while True:
        attempts += 1
        result = settle(Attempt(status=503), attempts=attempts, created_at=T0, now=now,
                        backoff=BACKOFF, jitter=0.0)
        if result.state == "dead":
            break
        assert result.next_attempt_at is not None
        now = result.next_attempt_at
    assert now - T0 >= timedelta(hours=24) and "retried for" in result.note
    assert attempts < 60  # capped at 1 h: about 35 attempts in a day, not thousands


@pytest.mark.parametrize(("status", "state"), [
    (200, "delivered"), (204, "delivered"), (400, "dead"), (404, "dead"), (410, "dead"),
    (301, "dead"), (408, "pending"), (429, "pending"), (500, "pending"), (None, "pending")])
def test_what_ends_a_delivery(status: int | None, state: str) -> None:
    attempt = Attempt(status=status) if status else Attempt(error="ConnectTimeout")
    result = settle(attempt, attempts=1, created_at=T0, now=T0, backoff=BACKOFF, jitter=0.5)
    assert result.state == state
    if state == "dead":
        assert f"HTTP {status}" in result.note


def test_retry_after_is_honoured_within_the_cap() -> None:
    result = settle(Attempt(status=429, retry_after=600), attempts=1, created_at=T0, now=T0,
                    backoff=BACKOFF, jitter=0.0)
    assert result.next_attempt_at == T0 + timedelta(seconds=600)


def test_urls_https_anywhere_http_only_to_loopback_in_development() -> None:
    assert check_url(URL, production=True, resolve=no_dns) == URL
    assert check_url("http://127.0.0.1:9999/h", production=False, resolve=no_dns)
    for url, production in [("http://127.0.0.1:9999/h", True), ("http://dpmptsp.example/h", False),
                            ("https://intranet.example/h", True), ("https://10.1.2.3/h", True),
                            ("https://[::1]/h", True), ("https://169.254.169.254/latest", True),
                            ("ftp://dpmptsp.example/", False), ("https://u:p@dpmptsp.example/",
                                                                False)]:
        with pytest.raises(WebhookError):
            check_url(url, production=production, resolve=no_dns)


def test_subscriptions() -> None:
    assert parse_subscriptions("overdue, refusals") == ("refusals", "overdue")
    with pytest.raises(WebhookError):
        parse_subscriptions("refusals,everything")


def delivery(receipt: str, n: int, department: DepartmentRef = DEPT) -> NewDelivery:
    body = json.dumps({"specversion": "1.0", "id": f"{receipt}:{n}", "type": "event.rejected",
                       "source": "/kota-bandung/tracking", "data": {"n": n}}).encode()
    return NewDelivery(department, f"{receipt}:{n}", receipt, "event.rejected", body)


def dispatcher(store: FakeOutcomeStore, poster: ScriptedPoster) -> WebhookDispatcher:
    keys = FakeKeys({DEPT: ("k-dpmptsp", SECRET), OTHER: ("k-dukcapil", "s3cret-other-xxx")})
    return WebhookDispatcher(store, keys, poster, backoff=BACKOFF, jitter=lambda: 0.0)


def test_per_case_order_a_later_delivery_waits_for_the_earlier_one() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, URL)})
    store.enqueue([delivery("BDG-PBG-1", 1), delivery("BDG-PBG-1", 2), delivery("BDG-PBG-2", 1)])
    poster = ScriptedPoster({URL: [500, 500, 200]})
    ticks = dispatcher(store, poster)
    assert ticks.tick(T0).attempted == 2  # BDG-PBG-1 #1 and BDG-PBG-2 #1; #2 waits behind #1
    assert ticks.tick(T0 + timedelta(seconds=4)).attempted == 0  # back-off (5 s here)
    assert ticks.tick(T0 + timedelta(seconds=6)).attempted == 2  # both retried: 200 now
    assert ticks.tick(T0 + timedelta(seconds=7)).attempted == 1  # only now #2
    sent = [json.loads(p.body)["id"] for p in poster.posts]
    assert sent.index("BDG-PBG-1:2") > max(i for i, s in enumerate(sent) if s == "BDG-PBG-1:1")
    assert [r.state for r in store.rows] == ["delivered"] * 3


def test_a_slow_or_failing_department_does_not_hold_back_another() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, URL), OTHER: Webhook(OTHER, SLOW_URL)})
    store.enqueue([delivery("BDG-KE-1", 1, OTHER), delivery("BDG-PBG-1", 1)])
    poster = ScriptedPoster({URL: [200], SLOW_URL: ["ReadTimeout"]})
    assert dispatcher(store, poster).tick(T0).attempted == 2
    assert [r.state for r in store.rows] == ["pending", "delivered"]


def test_a_dead_delivery_no_longer_blocks_its_case_and_a_404_is_dead_at_once() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, URL)})
    store.enqueue([delivery("BDG-PBG-1", 1), delivery("BDG-PBG-1", 2)])
    poster = ScriptedPoster({URL: [404, 200]})
    ticks = dispatcher(store, poster)
    first, second = ticks.tick(T0), ticks.tick(T0)
    assert [(r.state, r.note) for r in store.rows] == [("dead", "HTTP 404 (not retried)"),
                                                       ("delivered", "HTTP 200")]
    # what the outcomes process counts (pantau_webhook_attempts_total)
    assert first.settled == {("kota-bandung", "dpmptsp", "dead"): 1}
    assert second.settled == {("kota-bandung", "dpmptsp", "delivered"): 1}


def test_every_delivery_is_signed_with_the_departments_key_and_verifies() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, URL)})
    store.enqueue([delivery("BDG-PBG-1", 1)])
    poster = ScriptedPoster({URL: [200]})
    dispatcher(store, poster).tick(T0)
    (post,) = poster.posts
    assert post.headers["X-Pantau-Key"] == "k-dpmptsp"
    assert post.headers["Content-Type"] == "application/cloudevents+json"
    now = float(post.headers["X-Pantau-Timestamp"])
    event = verify_webhook({"k-dpmptsp": SECRET}, post.headers, post.body,
                           target="/hooks/pantau?x=1", now=now)
    assert event["id"] == "BDG-PBG-1:1"
    with pytest.raises(WebhookVerificationError):
        verify_webhook({"k-dpmptsp": SECRET}, post.headers, post.body + b" ",
                       target="/hooks/pantau?x=1", now=now)
    with pytest.raises(WebhookVerificationError):  # another path: not what was signed
        verify_webhook({"k-dpmptsp": SECRET}, post.headers, post.body, target="/other", now=now)
    with pytest.raises(WebhookVerificationError):  # stale
        verify_webhook({"k-dpmptsp": SECRET}, post.headers, post.body,
                       target="/hooks/pantau?x=1", now=now + 301)


def test_a_department_without_an_active_key_waits_like_a_failure() -> None:
    store = FakeOutcomeStore(T0, hooks={DEPT: Webhook(DEPT, URL)})
    store.enqueue([delivery("BDG-PBG-1", 1)])
    poster = ScriptedPoster({URL: [200]})
    report = WebhookDispatcher(store, FakeKeys({}), poster, backoff=BACKOFF).tick(T0)
    assert poster.posts == [] and store.rows[0].state == "pending"
    assert report.settled == {("kota-bandung", "dpmptsp", "pending"): 1}
    assert "no active key" in store.rows[0].note
