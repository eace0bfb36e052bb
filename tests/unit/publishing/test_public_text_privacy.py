"""Property: personal data written the ways issue 14 found (an NPWP, a NIK glued to its label,
phones split by slashes, obfuscated e-mails, housing addresses) never reaches any public answer
of the portal — case API, Atom and JSON feeds, Open311 JSON and XML — when a note carrying it
got into the index unredacted. Generators are the contracts' redaction tests' own."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pantau_publishing.domain.record import case_document, change_documents, clean_case
from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.contracts.test_redaction import (
    housing,
    npwps,
    obfuscated_emails,
    rt_rw,
    written_phones,
)
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.fakes import FakeReader

RECEIPT = "BDG-PBG-2026-000321"
PATHS = [f"/api/v1/cases/{RECEIPT}", "/feed.atom", "/feed.json", f"/feeds/case/{RECEIPT}.atom",
         "/open311/v2/requests.json?jurisdiction_id=kota-bandung",
         f"/open311/v2/requests/{RECEIPT}.xml?jurisdiction_id=kota-bandung"]


def portal_over(note: str) -> TestClient:
    """The portal over one case whose note sits in the index as written (never redacted)."""
    case = clean_case(public_case(RECEIPT, revision=2))
    document = case_document(case)
    document["timeline"][-1]["note"] = note
    changes = [doc for _id, doc in change_documents(case)]
    changes[-1]["note"] = note
    return TestClient(create_app(PublishingSettings(), PublicRecords(FakeReader([document],
                                                                                changes))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(npwp=npwps, nik=st.from_regex(r"3[1-9][0-9]{14}", fullmatch=True), phone=written_phones,
       email=obfuscated_emails, estate=housing, rt=rt_rw)
def test_no_public_answer_shows_the_new_patterns(npwp: str, nik: str, phone: str, email: str,
                                                 estate: str, rt: str) -> None:
    note = (f"Berkas lengkap. NPWP {npwp}, NIK{nik}, WA {phone}, surel {email}; "
            f"alamat {estate}, Bandung; {rt}.")[:500]
    client = portal_over(note)
    for path in PATHS:
        answer = client.get(path)
        assert answer.status_code == 200, path
        for secret in (npwp, nik, phone, email, estate, rt):
            assert secret not in answer.text, (path, secret)
        assert "Berkas lengkap" in answer.text, path  # the note is shown, masked
