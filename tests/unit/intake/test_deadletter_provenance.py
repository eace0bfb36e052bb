"""What the dead-letter tool believes about a letter, and where it may replay it (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau_contracts.routing import dead_letter_headers
from pantau_intake.domain.departments import DepartmentRef
from pantau_tools.deadletters.provenance import Letter, Trust, provenance
from pantau_tools.deadletters.routes import Refusal, route
from pantau_tools.deadletters.scrub import is_due, scrubbed_headers, without_applicant

TRUST = Trust.parse(services="svc.intake,svc.tracking", operators="pantau")
DISHUB = "dept.kota-bandung.dishub"
DPMPTSP = "dept.kota-bandung.dpmptsp"
FORGED = {"x-pantau-origin-exchange": "pantau.accepted",
          "x-pantau-origin-routing-key": "kota-bandung.dpmptsp.case.withdrawn",
          "x-pantau-reason": json.dumps({"reason": "handler-failed"})}


def death(queue: str, reason: str = "expired", **extra: Any) -> dict[str, Any]:
    return {"queue": queue, "reason": reason, "count": 1, "exchange": "pantau.ingress",
            "routing-keys": ["kota-bandung.dishub.case.withdrawn"],
            "time": datetime.now(UTC) - timedelta(hours=1), **extra}


def stamped() -> bytes:
    return json.dumps({
        "specversion": "1.0", "id": "e1", "source": "/kota-bandung/dpmptsp",
        "type": "case.withdrawn", "time": "2026-03-01T00:00:00Z",
        "pantaureceived": "2026-03-01T00:00:01Z",
        "data": {"receipt_number": "BDG-PBG-1"}}).encode()


def test_the_forged_withdrawal_is_routed_by_the_broker_record_and_flagged() -> None:
    # issue 14: Dishub's own message, expired in intake.ingress, claiming pantau.accepted
    letter = Letter(DISHUB, "kota-bandung.dishub.case.withdrawn",
                    {**FORGED, "x-death": [death("intake.ingress")]})
    prov = provenance(letter, TRUST)
    assert prov.vouched_by == "broker" and prov.died_in == "intake.ingress"
    assert prov.acting_user == DISHUB and prov.pantau_reason is None
    assert prov.broker is not None and prov.broker.reason == "expired"
    assert any("x-pantau-reason was set by the publisher" in n for n in prov.suspicious)
    assert any("names 'pantau.accepted'" in n for n in prov.suspicious)
    target = route(prov, b"{}")
    assert target.exchange == "pantau.ingress"
    assert target.routing_key == "kota-bandung.dishub.case.withdrawn"
    assert target.replay_as == DepartmentRef("kota-bandung", "dishub")


def test_only_the_newest_x_death_entry_counts() -> None:
    planted = death("tracking.accepted", "delivery_limit")
    letter = Letter(DISHUB, "kota-bandung.dishub.x",
                    {"x-death": [death("intake.ingress"), planted],
                     "x-first-death-queue": "tracking.accepted"})
    assert provenance(letter, TRUST).died_in == "intake.ingress"


def test_a_department_letter_without_user_id_is_refused() -> None:
    prov = provenance(Letter(None, "k", {"x-death": [death("intake.ingress")]}), TRUST)
    with pytest.raises(Refusal, match="unknown — not authenticated"):
        route(prov, b"{}")


def test_a_letter_nobody_vouches_for_is_refused() -> None:
    # published straight to the dead-letter exchange by someone who is not a Pantau service
    prov = provenance(Letter(DISHUB, "k", {**FORGED, "x-pantau-origin-queue": "tracking.accepted"}),
                      TRUST)
    assert prov.vouched_by is None and prov.suspicious
    with pytest.raises(Refusal, match="nobody vouches"):
        route(prov, stamped())


def test_a_service_dead_letter_is_believed_and_replays_to_its_queue() -> None:
    headers = {"x-pantau-origin-queue": "tracking.accepted",
               "x-pantau-origin-exchange": "pantau.accepted",
               "x-pantau-reason": json.dumps({"reason": "handler-failed"}),
               "x-pantau-dead-lettered-by": "tracking"}
    prov = provenance(Letter("svc.tracking", "k", headers), TRUST)
    assert prov.pantau_reason == {"reason": "handler-failed"} and not prov.suspicious
    target = route(prov, stamped())
    assert (target.exchange, target.routing_key, target.replay_as) == ("", "tracking.accepted",
                                                                       None)


def test_an_unstamped_event_never_goes_to_tracking() -> None:
    prov = provenance(Letter(None, "k", {"x-death": [death("tracking.accepted")]}), TRUST)
    unstamped = json.loads(stamped())
    del unstamped["pantaureceived"]
    with pytest.raises(Refusal, match="pantaureceived"):
        route(prov, json.dumps(unstamped).encode())
    assert route(prov, stamped()).routing_key == "tracking.accepted"


def test_unknown_queues_are_refused() -> None:
    prov = provenance(Letter("svc.intake", "k", {"x-death": [death("feedback.x.y")]}), TRUST)
    with pytest.raises(Refusal, match="not a queue"):
        route(prov, stamped())


def test_intake_rejection_of_an_operator_replay_acts_for_the_replayed_department() -> None:
    headers = {"x-pantau-origin-queue": "intake.ingress", "x-pantau-origin-user": "pantau",
               "x-pantau-origin-routing-key": "kota-bandung.dishub.case.withdrawn",
               "x-pantau-replay-as": DISHUB}
    prov = provenance(Letter("svc.intake", "k", headers), TRUST)
    assert prov.acting_user == DISHUB
    # the same header on a department's own message means nothing
    headers["x-pantau-origin-user"] = DISHUB
    headers["x-pantau-replay-as"] = DPMPTSP
    assert provenance(Letter("svc.intake", "k", headers), TRUST).acting_user == DISHUB


def test_scrubbed_letter_keeps_its_provenance_only_under_the_tools_login() -> None:
    original = Letter(DISHUB, "kota-bandung.dishub.case.withdrawn",
                      {**FORGED, "x-death": [death("intake.ingress")]})
    prov = provenance(original, TRUST)
    headers = scrubbed_headers(original.headers, prov, datetime.now(UTC))
    assert "x-death" not in headers and "x-pantau-reason" not in headers
    again = provenance(Letter("pantau", "pantau.dead-letter", headers), TRUST)
    assert (again.died_in, again.acting_user, again.routing_key) == (
        "intake.ingress", DISHUB, "kota-bandung.dishub.case.withdrawn")
    assert again.suspicious == prov.suspicious
    # the same header from anyone else is not believed
    assert provenance(Letter(DISHUB, "k", headers), TRUST).died_in is None


def test_without_applicant_and_age() -> None:
    body = json.dumps({"id": "x", "data": {"receipt_number": "R", "applicant": {"nik": "1"}}})
    assert json.loads(without_applicant(body.encode()) or b"") == {"id": "x",
                                                                   "data": {"receipt_number": "R"}}
    assert without_applicant(b'{"data": {}}') is None and without_applicant(b"garbage") is None
    now = datetime.now(UTC)
    old = provenance(Letter(DPMPTSP, "k", {"x-death": [death("intake.ingress",
                                                             time=now - timedelta(days=31))]}),
                     TRUST)
    young = provenance(Letter(DPMPTSP, "k", {"x-death": [death("intake.ingress")]}), TRUST)
    future = provenance(Letter(DPMPTSP, "k", {"x-death": [death("intake.ingress",
                                                                time=now + timedelta(days=9))]}),
                        TRUST)
    assert is_due(old, now, 30) and not is_due(young, now, 30)
    assert is_due(future, now, 30)  # a claimed future is no age at all: scrubbed


@given(st.dictionaries(st.sampled_from(["x-pantau-reason", "X-Pantau-Origin-Queue", "x-death",
                                        "x-first-death-queue", "x-pantau-provenance",
                                        "x-pantau-replay-as", "plain", "x-other"]),
                       st.text(max_size=5)))
def test_services_keep_no_inbound_pantau_or_death_header(headers: dict[str, str]) -> None:
    kept = dead_letter_headers(headers)
    assert all(not k.lower().startswith("x-pantau-") or k == "x-pantau-replay-as" for k in kept)
    assert not {"x-death", "x-first-death-queue"} & set(kept)
    assert {k for k in headers if k in ("plain", "x-other")} <= set(kept)
