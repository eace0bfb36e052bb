"""The SKM answers in the citizen store, on SQLite and PostgreSQL: one answer per receipt (also
when replicas answer at once), totals per service place, nothing stored but the receipt, the
place, the month and the nine scores, and tables made by replicas starting together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pantau_platform.sql import engine_for
from pantau_publishing.adapters.survey_store import SqlSurveyStore
from pantau_publishing.domain import skm
from pantau_publishing.service.ports import SurveyResponse, SurveyUnavailable
from tests.conftest import database_urls

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def citizen_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_urls(request, tmp_path, "citizen", "skm")


def response(receipt: str, service: str = "pbg", scores: tuple[int, ...] = (4,) * 9,
             jurisdiction: str = "kota-bandung") -> SurveyResponse:
    return SurveyResponse(receipt=receipt, jurisdiction=jurisdiction, department="dpmptsp",
                          service=service, month="2026-12", scores=scores)


def test_one_answer_per_receipt_and_totals_per_place(citizen_url: str) -> None:
    store = SqlSurveyStore(citizen_url)
    try:
        assert store.add(response("BDG-PBG-2026-000001", scores=(1, 2, 3, 4, 1, 2, 3, 4, 1)))
        assert not store.add(response("BDG-PBG-2026-000001"))  # the second answer: refused
        assert store.add(response("BDG-PBG-2026-000002", scores=(3,) * 9))
        assert store.add(response("BDG-SLF-2026-000003", service="slf"))
        assert store.add(response("BGR-PBG-2026-000004", jurisdiction="kota-bogor"))
        assert store.has_answered("BDG-PBG-2026-000001")
        assert not store.has_answered("BDG-PBG-2026-000009")
        count, sums = store.totals("kota-bandung", "dpmptsp", "pbg")
        assert (count, sums) == (2, (4, 5, 6, 7, 4, 5, 6, 7, 4))
        assert skm.ikm(skm.Totals(count, sums)) == round((48 / 18) * 25, 2)
        assert store.totals("kota-bandung", "dpmptsp", "izin-reklame") == (0, (0,) * 9)
    finally:
        store.close()


def test_the_row_holds_nothing_but_receipt_place_month_and_scores(citizen_url: str) -> None:
    store = SqlSurveyStore(citizen_url)
    try:
        store.add(response("BDG-PBG-2026-000010"))
    finally:
        store.close()
    engine = engine_for(citizen_url)
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("skm_responses")}
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT * FROM skm_responses")).mappings().one()
    finally:
        engine.dispose()
    assert columns == {"receipt_number", "jurisdiction_code", "department_code", "service_code",
                       "month", *skm.FIELDS}
    assert row["month"] == "2026-12" and row["receipt_number"] == "BDG-PBG-2026-000010"


def test_simultaneous_answers_for_one_receipt_store_one(citizen_url: str) -> None:
    stores = [SqlSurveyStore(citizen_url) for _ in range(6)]  # replicas starting together
    results: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def answer(store: SqlSurveyStore) -> None:
        barrier.wait()
        results.append(store.add(response("BDG-PBG-2026-000020")))

    threads = [threading.Thread(target=answer, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [False] * 5 + [True]
        assert stores[0].totals("kota-bandung", "dpmptsp", "pbg")[0] == 1
    finally:
        for store in stores:
            store.close()


def test_an_unreachable_store_is_unavailable_not_a_crash() -> None:
    store = SqlSurveyStore("postgresql://nobody:nothing@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(SurveyUnavailable):
        store.add(response("BDG-PBG-2026-000030"))
