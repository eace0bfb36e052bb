"""Portal texts as data (``portal/*_texts.yaml``) and the survey use case with a fake store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.survey_code import survey_code
from pantau_publishing.portal import i18n
from pantau_publishing.portal.meta import describe
from pantau_publishing.service.survey import SurveyDesk
from tests.unit.publishing.factories import public_case
from tests.unit.publishing.test_citizen_pages import ALL_FOUR, FakeSurveyStore

PORTAL = Path(i18n.__file__).parent


def test_every_data_text_is_loaded_in_both_languages() -> None:
    files = sorted(PORTAL.glob("*_texts.yaml"))
    assert files
    for path in files:
        for key, texts in i18n.load_data_texts(path).items():
            assert i18n.TEXTS[key] == texts and all(texts.values()), key


def test_a_data_file_missing_a_language_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad_texts.yaml"
    bad.write_text("greeting: {id: Halo}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="greeting"):
        i18n.load_data_texts(bad)


@pytest.mark.parametrize("template", ["sheet.html", "survey_result.html"])
def test_the_new_pages_have_their_own_descriptions(template: str) -> None:
    class Case:
        receipt_number = "BDG-PBG-2026-000001"

    for lang in ("id", "en"):
        assert describe(template, lang, {"case": Case()}) != describe("home.html", lang, {})


def test_the_desk_checks_closed_code_scores_and_once() -> None:
    store, secret = FakeSurveyStore(), b"desk-secret"
    desk = SurveyDesk(store, secret)
    closed = PublicCaseV2.model_validate(public_case("BDG-PBG-2026-000001", revision=4,
                                                     status="selesai"))
    open_case = PublicCaseV2.model_validate(public_case("BDG-PBG-2026-000002", revision=2))
    code = survey_code(secret, closed.receipt_number)
    today = date(2026, 12, 2)
    assert desk.submit(open_case, survey_code(secret, open_case.receipt_number), ALL_FOUR,
                       today).status == "not-closed"
    assert desk.submit(closed, "AAAAA-AAAAA", ALL_FOUR, today).status == "bad-code"
    assert desk.submit(closed, code, {**ALL_FOUR, "u9": ""}, today).status == "invalid"
    assert desk.submit(closed, code, ALL_FOUR, today).accepted
    assert desk.submit(closed, code, ALL_FOUR, today).status == "duplicate"
    assert store.rows[closed.receipt_number].month == "2026-12" and desk.answered(
        closed.receipt_number)
    summary = desk.dashboard("kota-bandung", "dpmptsp", "pbg", closed=4, min_responses=1)
    assert (summary.ikm, summary.grade, summary.response_rate) == (100.0, "A", 0.25)
