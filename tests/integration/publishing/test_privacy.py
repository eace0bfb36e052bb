"""Nothing private is published: cases whose notes and fields carry personal data go through the
public record into the real index; none of it comes out of the index, a feed or an API answer.

Generated personal data: applicant names, NIKs, mobile numbers, e-mail addresses, street
addresses — in notes, and as a "kecamatan" that is really an address (``Jl. Dago``). Tracking
builds the public record with ``redact_text(note, known=[the applicant's values])`` (so names
are removed there — a bare name cannot be recognised by pattern); publishing redacts again by
pattern, drops an address-like kecamatan, and refuses any field outside the allowlist.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pantau_contracts.redaction import redact_text
from pantau_publishing.adapters.search.store import EsCaseReader, EsSearchIndex
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import ReceivedMessage
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.integration.publishing.conftest import SearchStack
from tests.unit.publishing.factories import case_updated, public_case, public_case_v1

FIRST = ["Budi", "Siti", "Agus", "Dewi", "Rahmat", "Nurul", "Yohanes", "Putu", "Intan"]
LAST = ["Santoso", "Rahayu", "Wijaya", "Hidayat", "Siregar", "Pratama", "Kusuma"]
STREETS = ["Merdeka", "Dago", "Asia Afrika", "Cihampelas", "Sukajadi", "Pasteur"]
DISTRICTS = ["Coblong", "Bojongloa Kidul", "Cibeunying Kaler", "Andir"]
ADDRESS_KINDS = ["Jl.", "Jalan", "Gg.", "Gang", "Komplek", "Perum"]

person = st.fixed_dictionaries({
    "name": st.builds(lambda a, b: f"{a} {b}", st.sampled_from(FIRST), st.sampled_from(LAST)),
    "nik": st.from_regex(r"3[1-9][0-9]{14}", fullmatch=True),
    "phone": st.builds(lambda p, d: p + d, st.sampled_from(["08", "+628", "628"]),
                       st.from_regex(r"1[0-9]{9}", fullmatch=True)),
    "email": st.builds(lambda u, d: f"{u}@{d}.co.id",
                       st.from_regex(r"[a-z]{4,10}", fullmatch=True),
                       st.from_regex(r"[a-z]{4,8}", fullmatch=True)),
    "street": st.builds(lambda s, n: f"Jl. {s} No. {n}", st.sampled_from(STREETS),
                        st.integers(1, 300)),
    # the kecamatan field: a real district, or an address that fits the contract's pattern
    # (letters, spaces, dots) — publishing must drop the latter whole
    "kecamatan": st.one_of(
        st.sampled_from(DISTRICTS),
        st.builds(lambda kind, s: f"{kind} {s}", st.sampled_from(ADDRESS_KINDS),
                  st.sampled_from(STREETS))),
})
template = st.sampled_from([
    "Pemohon {name} (NIK {nik}) diminta melengkapi berkas, hubungi {phone}",
    "Kirim ke {email}; alamat {street}, RT 03/RW 05",
    "Sdr. {name} tinggal di {street}. HP: {phone}. Email {email}.",
    "Data: {nik} / {phone} / {email}",
])


def secrets_of(p: dict[str, str]) -> list[str]:
    digits = p["phone"].lstrip("+")
    kecamatan = [] if p["kecamatan"] in DISTRICTS else [p["kecamatan"]]
    return [p["name"], p["nik"], digits[-9:], p["email"], p["street"].removeprefix("Jl. "),
            *kecamatan]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(people=st.lists(st.tuples(person, template), min_size=1, max_size=4))
def test_personal_data_never_reaches_index_feed_or_api(search: SearchStack,
                                                       people: list[Any]) -> None:
    handler = IndexBatch(EsSearchIndex(search.es, search.aliases))
    messages, secrets, receipts = [], [], []
    for n, (p, text) in enumerate(people):
        receipt = f"PRIV-{abs(hash(p['nik'])) % 10**8:08d}-{n}"
        receipts.append(receipt)
        raw_note = text.format(**p)
        # what tracking does when it builds the public record
        note = redact_text(raw_note, known=[p["name"], p["nik"], p["phone"], p["email"],
                                            p["street"]])
        messages.append(ReceivedMessage(case_updated(public_case(
            receipt, revision=2, note=note, kecamatan=p["kecamatan"]))))
        # a record that was NOT pre-redacted: publishing's own pass must catch the patterns
        unredacted = raw_note.replace(p["name"], "pemohon")
        messages.append(ReceivedMessage(case_updated(public_case(
            receipt + "-R", revision=2, note=unredacted, kecamatan=p["kecamatan"],
            overdue=True))))  # late: the case page adds its complaint route and text
        # the same, as a version-1 record still queued from before the two clocks (upgraded)
        messages.append(ReceivedMessage(case_updated(public_case_v1(
            receipt + "-V", revision=2, note=unredacted, kecamatan=p["kecamatan"]))))
        # personal data in fields outside the allowlist: refused, never indexed
        leaky = public_case(receipt + "-X", revision=2)
        leaky.update({"applicant_name": p["name"], "nik": p["nik"]})
        messages.append(ReceivedMessage(case_updated(leaky)))
        secrets.extend(secrets_of(p))
    outcome = handler.handle(messages)
    assert len(outcome.failures) == len(people)  # every leaky record refused
    search.refresh()

    stored = search.es.search(index=f"{search.aliases.cases},{search.aliases.changes}",
                              size=1000, query={"match_all": {}})
    outputs = [json.dumps([h["_source"] for h in stored["hits"]["hits"]])]
    client = TestClient(create_app(PublishingSettings(),
                                   PublicRecords(EsCaseReader(search.es, search.aliases))))
    outputs += [client.get("/feed.atom").text, client.get("/feed.json").text,
                client.get("/export/cases.csv").text,
                client.get("/api/v1/cases", params={"size": "100"}).text,
                client.get("/export/cases.ndjson").text,
                client.get("/open311/v2/requests.json", params={
                    "jurisdiction_id": "kota-bandung",
                    "start_date": "2026-03-01T00:00:00Z"}).text]
    for receipt in receipts:
        outputs += [client.get(f"/api/v1/cases/{receipt}").text,
                    client.get(f"/kasus/{receipt}-R").text,
                    client.get(f"/kasus/{receipt}-R/cetak").text,  # the status sheet
                    client.get(f"/kasus/{receipt}-V").text,
                    client.get(f"/feeds/case/{receipt}.json").text]
    combined = "\n".join(outputs)
    assert all(r in combined for r in receipts)  # the records themselves are there
    for secret in secrets:
        assert secret not in combined, f"leaked {secret!r}"
        assert secret.lower() not in combined.lower(), f"leaked {secret!r}"
