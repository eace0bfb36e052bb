from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_contracts.signing import compute_v1, parse_signature_header, sign, sign_request
from pantau_intake.domain.problems import Problem
from pantau_intake.service.authentication import Authenticator
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
    good = compute_v1(SECRETS["k-dpmptsp"], ts, BODY)
    headers = {"X-Pantau-Key": "k-dpmptsp", "X-Pantau-Timestamp": ts,
               "X-Pantau-Signature": f"v1={'0' * 64}, v1={good}"}
    assert make(clock).authenticate(headers, BODY).department == DPMPTSP


def test_parse_signature_header_ignores_unknown_schemes() -> None:
    assert parse_signature_header("v0=abc, v1=DEF ,x, v2=0a") == {"v1": ["def"], "v2": ["0a"]}


@given(st.binary(max_size=512), st.text(max_size=40))
def test_signing_roundtrip_for_any_body(body: bytes, secret: str) -> None:
    clock = Clock()
    keys = FakeKeys()
    keys.keys["k-dpmptsp"] = keys.keys["k-dpmptsp"].__class__("k-dpmptsp", DPMPTSP, secret)
    auth = Authenticator(keys, clock=clock)
    assert auth.authenticate(sign(secret, body, int(clock.now), key_id="k-dpmptsp"), body)


# --- scheme v2 (canonical request) -------------------------------------------------------------
STRUCTURED = {"Content-Type": "application/cloudevents+json"}
BINARY = {"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "e-1",
          "ce-source": "/kota-bandung/dpmptsp", "ce-type": "case.resumed"}


def signed_v2(clock: Clock, headers: dict[str, str], body: bytes = BODY, *,
              key: str = "k-dpmptsp", target: str = "/v1/events") -> dict[str, str]:
    return {**headers, **sign_request(SECRETS[key], body, key_id=key, headers=headers,
                                      target=target, timestamp=clock.now)}


@pytest.mark.parametrize("headers", [STRUCTURED, BINARY], ids=["structured", "binary"])
def test_v2_authenticates_structured_and_binary_requests(headers: dict[str, str]) -> None:
    clock = Clock()
    principal = make(clock).authenticate(signed_v2(clock, headers), BODY)
    assert (principal.department, principal.scheme) == (DPMPTSP, "v2")


def test_v2_header_names_and_order_do_not_matter() -> None:
    clock = Clock()
    headers = signed_v2(clock, BINARY)
    shuffled = [(name.upper() if name.startswith("ce-") else name, value)
                for name, value in reversed(list(headers.items()))]
    assert make(clock).authenticate(shuffled, BODY).scheme == "v2"


@pytest.mark.parametrize("change", [
    {"Content-Type": "application/cloudevents-batch+json"},
    {"ce-type": "case.completed"},
    {"ce-subject": "BDG-PBG-1"},           # an added attribute
    {"ce-source": "/kota-bandung/dpmptsp/x"},
], ids=["content-type", "ce-value", "ce-added", "ce-source"])
def test_v2_covers_the_content_type_and_every_ce_header(change: dict[str, str]) -> None:
    clock = Clock()
    headers = {**signed_v2(clock, BINARY), **change}
    with pytest.raises(Problem) as info:
        make(clock).authenticate(headers, BODY)
    assert info.value.status == 401


def test_v2_covers_the_method_the_path_and_the_body() -> None:
    clock = Clock()
    headers = signed_v2(clock, STRUCTURED)
    auth = make(clock)
    for kwargs, body in (({"method": "PUT"}, BODY), ({"target": "/v1/events?x=1"}, BODY),
                         ({}, BODY + b" ")):
        with pytest.raises(Problem) as info:
            auth.authenticate(headers, body, **kwargs)
        assert info.value.status == 401
    assert auth.authenticate(headers, BODY).scheme == "v2"


def test_v1_is_refused_in_binary_mode_with_a_pointer_to_v2() -> None:
    clock = Clock()
    headers = {**BINARY, **signed(clock)}
    with pytest.raises(Problem) as info:
        make(clock).admit(headers)
    assert info.value.status == 401
    assert "v2" in info.value.detail and "binary" in info.value.detail


def test_v1_is_accepted_and_reported_as_v1_outside_binary_mode_unless_disabled() -> None:
    clock = Clock()
    assert make(clock).authenticate({**STRUCTURED, **signed(clock)}, BODY).scheme == "v1"
    strict = Authenticator(FakeKeys(), window=300, clock=clock, accept_v1=False)
    with pytest.raises(Problem) as info:
        strict.admit({**STRUCTURED, **signed(clock, offset=1)})
    assert "v2" in info.value.detail


def test_v1_and_v2_together_verify_as_v2_even_in_binary_mode() -> None:
    clock = Clock()
    headers = signed_v2(clock, BINARY)
    v1 = sign(SECRETS["k-dpmptsp"], BODY, clock.now)["X-Pantau-Signature"]
    headers["X-Pantau-Signature"] = f"{v1},{headers['X-Pantau-Signature']}"
    assert make(clock).authenticate(headers, BODY).scheme == "v2"


def test_admit_refuses_an_unknown_key_without_the_body() -> None:
    clock = Clock()
    headers = sign_request("x", b"", key_id="nope", headers=STRUCTURED, timestamp=clock.now)
    with pytest.raises(Problem) as info:
        make(clock).admit({**STRUCTURED, **headers})
    assert info.value.errors[0].field == "X-Pantau-Key"


def test_a_repeated_ce_header_is_refused() -> None:
    clock = Clock()
    headers = list(signed_v2(clock, BINARY).items()) + [("ce-type", "case.completed")]
    with pytest.raises(Problem) as info:
        make(clock).admit(headers)
    assert info.value.status == 401


@pytest.mark.parametrize("name", ["X-Pantau-Key", "X-Pantau-Timestamp", "X-Pantau-Signature"])
@given(junk=st.text(min_size=1, max_size=20).filter(lambda t: not t.isascii()))
def test_non_ascii_auth_headers_are_401_never_an_error(name: str, junk: str) -> None:
    clock = Clock()
    headers = signed_v2(clock, STRUCTURED)
    headers[name] = headers[name][:-1] + junk
    with pytest.raises(Problem) as info:
        make(clock).authenticate(headers, BODY)
    assert info.value.status == 401


def test_unicode_digits_are_not_a_timestamp() -> None:
    clock = Clock()
    headers = signed_v2(clock, STRUCTURED)
    headers["X-Pantau-Timestamp"] = "\u0661\u0662\u0663"  # Arabic-Indic digits: \d matches them
    with pytest.raises(Problem) as info:
        make(clock).authenticate(headers, BODY)
    assert info.value.errors[0].field == "X-Pantau-Timestamp"


@given(st.binary(max_size=256), st.text(max_size=30),
       st.dictionaries(st.from_regex(r"ce-[a-z]{1,8}", fullmatch=True),
                       st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                               max_size=20), max_size=4))
def test_v2_roundtrip_for_any_body_secret_and_attributes(body: bytes, secret: str,
                                                        ce: dict[str, str]) -> None:
    clock = Clock()
    keys = FakeKeys()
    keys.keys["k-dpmptsp"] = keys.keys["k-dpmptsp"].__class__("k-dpmptsp", DPMPTSP, secret)
    headers = {"Content-Type": "application/json", **ce}
    auth = Authenticator(keys, clock=clock)
    signed_headers = {**headers, **sign_request(secret, body, key_id="k-dpmptsp",
                                                headers=headers, timestamp=clock.now)}
    assert auth.authenticate(signed_headers, body).scheme == "v2"
