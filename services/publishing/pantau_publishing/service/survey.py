"""Use case: a citizen answers the SKM questionnaire of a closed case, once.

Contract: ``SurveyDesk.submit(case, typed_code, form, today)`` returns a ``SurveyVerdict``:

* ``not-closed``: the case is open (a survey rates a finished service);
* ``bad-code``: the code is not the case's survey code (printed on its status sheet);
* ``invalid``: the form does not carry nine scores 1–4;
* ``duplicate``: the case's receipt has answered already (the store's unique receipt decides,
  so two simultaneous answers still make one);
* ``accepted``: stored — receipt, service place, month and scores, nothing else.

``SurveyDesk.dashboard(place, closed, min_responses)`` gives the ``domain.skm.Summary`` of one
service. Rate limits per client are the HTTP edge's business (``portal/survey.py``): the use
case never sees an address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain import skm
from pantau_publishing.domain.guidance import next_step
from pantau_publishing.domain.survey_code import code_matches
from pantau_publishing.service.ports import SurveyResponse, SurveyResponses


@dataclass(frozen=True)
class SurveyVerdict:
    """What became of one submitted questionnaire (``status``, see the module doc)."""

    status: str  # accepted / duplicate / bad-code / invalid / not-closed
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


class SurveyDesk:
    def __init__(self, store: SurveyResponses, secret: bytes) -> None:
        self._store = store
        self._secret = secret

    def submit(self, case: PublicCaseV2, typed_code: str, form: Mapping[str, str | None],
               today: date) -> SurveyVerdict:
        if not next_step(case).survey:
            return SurveyVerdict("not-closed")
        if not code_matches(self._secret, case.receipt_number, typed_code):
            return SurveyVerdict("bad-code")
        try:
            scores = skm.parse_scores(form)
        except skm.InvalidScores as exc:
            return SurveyVerdict("invalid", str(exc))
        stored = self._store.add(SurveyResponse(
            receipt=case.receipt_number, jurisdiction=case.jurisdiction_code,
            department=case.department_code, service=case.service_code,
            month=f"{today:%Y-%m}", scores=scores))
        return SurveyVerdict("accepted" if stored else "duplicate")

    def answered(self, receipt: str) -> bool:
        return self._store.has_answered(receipt)

    def dashboard(self, jurisdiction: str, department: str, service: str, closed: int,
                  min_responses: int) -> skm.Summary:
        count, sums = self._store.totals(jurisdiction, department, service)
        return skm.summary(skm.Totals(count, sums), closed, min_responses)
