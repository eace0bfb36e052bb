from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_intake.client.signing import sign
from pantau_intake.domain.authentication import Authenticator
from pantau_intake.domain.problems import Problem
from pantau_intake.domain.signatures import compute, parse_signature_header
from tests.unit.intake.fakes import DPMPTSP, SECRETS, Clock, FakeKeys

BODY = b'{"hello": "world"}'


def make(clock: Clock | None = None) -> Authenticator:
    return Authenticator(FakeKeys(), window=300, clock=clock or Clock())


def signed(clock: Clock, key: str = "k-dpmptsp", body: bytes = BODY,
           offset: int = 0) -> dict[str, str]:
    return sign(SECRETS[key], body, int(clock.now) + offset, key_id=key)


def test_valid_signature_authenticates_the_department() -> None:
    clock = Clock()
    principal = make(clock).authenticate(signed(clock), BODY)
    assert principal.department == DPMPTSP
    assert principal.key_id == "k-dpmptsp"


def test_header_names_are_case_insensitive_when_lower_cased() -> None:
    clock = Clock()
    headers = {k.lower(): v for k, v in signed(clock).items()}
    assert make(clock).authenticate(headers, BODY).department == DPMPTSP


@pytest.mark.parametrize("missing", ["X-Pantau-Key", "X-Pantau-Timestamp", "X-Pantau-Signature"])
def test_missing_header_is_401_naming_it(missing: str) -> None:
    clock = Clock()
    headers = signed(clock)
    del headers[missing]
    with pytest.raises(Problem) as info:
        make(clock).authenticate(headers, BODY)
    assert info.value.status == 401
    assert info.value.errors[0].field == missing


def test_tampered_body_is_refused() -> None:
    clock = Clock()
    with pytest.raises(Problem) as info:
        make(clock).authenticate(signed(clock), BODY + b" ")
    assert info.value.status == 401
    assert info.value.errors[0].field == "X-Pantau-Signature"


def test_wrong_secret_is_refused() -> None:
    clock = Clock()
    headers = sign("not-the-secret", BODY, int(clock.now), key_id="k-dpmptsp")
    with pytest.raises(Problem):
        make(clock).authenticate(headers, BODY)


def test_unknown_key_is_refused() -> None:
    clock = Clock()
    headers = sign("x", BODY, int(clock.now), key_id="nope")
    with pytest.raises(Problem) as info:
        make(clock).authenticate(headers, BODY)
    assert info.value.errors[0].field == "X-Pantau-Key"


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_timestamp_outside_window_is_refused(offset: int) -> None:
    clock = Clock()
    with pytest.raises(Problem) as info:
        make(clock).authenticate(signed(clock, offset=offset), BODY)
    assert info.value.errors[0].field == "X-Pantau-Timestamp"


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamp_inside_window_is_accepted(offset: int) -> None:
    clock = Clock()
    assert make(clock).authenticate(signed(clock, offset=offset), BODY)


def test_non_numeric_timestamp_is_refused() -> None:
    clock = Clock()
    headers = signed(clock)
    headers["X-Pantau-Timestamp"] = "yesterday"
    with pytest.raises(Problem) as info:
        make(clock).authenticate(headers, BODY)
    assert info.value.status == 401


def test_replayed_signature_is_409_but_a_fresh_signature_passes() -> None:
    clock = Clock()
    auth = make(clock)
    headers = signed(clock)
    auth.authenticate(headers, BODY)
    with pytest.raises(Problem) as info:
        auth.authenticate(headers, BODY)
    assert info.value.status == 409
    clock.now += 1
    assert auth.authenticate(signed(clock), BODY)


def test_seen_signatures_are_forgotten_after_the_window() -> None:
    clock = Clock()
    auth = make(clock)
    auth.authenticate(signed(clock), BODY)
    clock.now += 10_000
    # long after the window the old request is refused by its timestamp, not the cache
    with pytest.raises(Problem) as info:
        auth.authenticate(signed(Clock(clock.now - 10_000)), BODY)
    assert info.value.status == 401
    assert len(auth._seen._seen) <= 1  # noqa: SLF001 - expiry keeps the cache small


def test_second_of_two_signatures_may_verify() -> None:
    clock = Clock()
    ts = str(int(clock.now))
    headers = {"X-Pantau-Key": "k-dpmptsp", "X-Pantau-Timestamp": ts,
               "X-Pantau-Signature": f"v1={'0' * 64}, v1={compute(SECRETS['k-dpmptsp'], ts, BODY)}"}
    assert make(clock).authenticate(headers, BODY).department == DPMPTSP


def test_parse_signature_header_ignores_unknown_schemes() -> None:
    assert parse_signature_header("v0=abc, v1=DEF ,x") == ["def"]


@given(st.binary(max_size=512), st.text(max_size=40))
def test_signing_roundtrip_for_any_body(body: bytes, secret: str) -> None:
    clock = Clock()
    keys = FakeKeys()
    keys.keys["k-dpmptsp"] = keys.keys["k-dpmptsp"].__class__("k-dpmptsp", DPMPTSP, secret)
    auth = Authenticator(keys, clock=clock)
    assert auth.authenticate(sign(secret, body, int(clock.now), key_id="k-dpmptsp"), body)
