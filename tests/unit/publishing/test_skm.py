"""SKM / IKM (PermenPANRB 14/2017): score parsing, the unit-weighted index ×25, the A–D
intervals, the minimum count before a grade is shown, and the per-case survey code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pantau_publishing.domain import skm
from pantau_publishing.domain.survey_code import code_matches, normalise, survey_code

answer = st.tuples(*[st.integers(1, 4)] * 9)


def test_nine_unsur_in_the_regulation_order() -> None:
    names = [name for _key, name in skm.UNSUR]
    assert len(names) == 9 and names[0] == "Persyaratan" and names[-1] == "Sarana dan prasarana"
    assert names[7] == "Penanganan pengaduan, saran, dan masukan"


def test_parse_scores_accepts_only_nine_scores_1_to_4() -> None:
    form = {f"u{n}": str(1 + n % 4) for n in range(1, 10)}
    assert skm.parse_scores(form) == tuple(1 + n % 4 for n in range(1, 10))
    for bad in ("0", "5", "", "3.5", "x"):
        try:
            skm.parse_scores({**form, "u4": bad})
        except skm.InvalidScores as exc:
            assert "u4" in str(exc)
        else:
            raise AssertionError(bad)


def test_ends_of_the_scale() -> None:
    assert skm.ikm(skm.Totals.of([(4,) * 9])) == 100.0
    assert skm.ikm(skm.Totals.of([(1,) * 9])) == 25.0
    assert skm.ikm(skm.Totals(0, (0,) * 9)) is None


def test_the_regulations_interval_bounds() -> None:
    assert [skm.grade(v) for v in (100, 88.31, 88.30, 76.61, 76.60, 65.00, 64.99, 25)] == \
        ["A", "A", "B", "B", "C", "C", "D", "D"]


def test_a_worked_example() -> None:
    # nine unsur means 3.6207 3.4828 3.4483 4 3.5172 3.6207 3.6552 3.6207 3.9655 (29 answers)
    sums = (105, 101, 100, 116, 102, 105, 106, 105, 115)
    value = skm.ikm(skm.Totals(29, sums))
    assert value == 91.48 and skm.grade(value) == "A"


@given(st.lists(answer, min_size=1, max_size=60))
def test_ikm_is_the_mean_score_times_25_and_graded(answers: list[tuple[int, ...]]) -> None:
    totals = skm.Totals.of(answers)
    value = skm.ikm(totals)
    assert value is not None and 25 <= value <= 100
    mean = sum(map(sum, answers)) / (9 * len(answers))
    assert abs(value - mean * 25) <= 0.005 + 1e-9
    assert skm.grade(value) in "ABCD"
    # a better answer never lowers the score
    better = [tuple(min(s + 1, 4) for s in answers[0]), *answers[1:]]
    assert skm.ikm(skm.Totals.of(better)) >= value  # type: ignore[operator]


@given(st.lists(answer, max_size=30), st.integers(0, 100), st.integers(1, 20))
def test_no_grade_below_the_minimum_count(answers: list[tuple[int, ...]], closed: int,
                                          minimum: int) -> None:
    shown = skm.summary(skm.Totals.of(answers), closed, minimum)
    assert shown.responses == len(answers)
    assert shown.shown == (len(answers) >= minimum)
    assert (shown.grade is None) == (not shown.shown)
    if closed:
        assert shown.response_rate is not None and 0 <= shown.response_rate <= 1
    else:
        assert shown.response_rate is None


SECRET = b"test-survey-secret"


def test_survey_code_is_short_stable_and_per_case() -> None:
    code = survey_code(SECRET, "BDG-PBG-2026-000001")
    assert len(code) == 11 and code[5] == "-" and code == survey_code(SECRET,
                                                                      "bdg-pbg-2026-000001")
    assert code != survey_code(SECRET, "BDG-PBG-2026-000002")
    assert code != survey_code(b"another secret", "BDG-PBG-2026-000001")


@given(st.from_regex(r"[A-Z]{3}-[A-Z]{3}-20[0-9]{2}-[0-9]{6}", fullmatch=True))
def test_the_code_matches_however_it_is_typed(receipt: str) -> None:
    code = survey_code(SECRET, receipt)
    for typed in (code, code.lower(), code.replace("-", " "), f"  {code}  ",
                  code.replace("O", "0").replace("I", "1").replace("B", "8")):
        assert code_matches(SECRET, receipt, typed), typed
    assert not code_matches(SECRET, receipt, "")
    assert not code_matches(SECRET, receipt + "1", code)
    assert normalise("ab-c 0") == "ABCO"
