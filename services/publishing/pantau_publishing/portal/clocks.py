"""Both clocks of a step in words, the same on the case page and in the feeds.

A department says when a step happened (``at``); Pantau's intake notes when the report arrived
(``received_at``). A step reported more than the tolerance later is *late reported*: the page
and the feeds say by how many working days, with an icon AND words (never colour alone), and
which time the service clock counts instead (``counted_at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pantau_contracts.payloads.public import PublicCaseV2
from pantau_publishing.domain.formatting import long_time
from pantau_publishing.domain.timeline import late_steps
from pantau_publishing.portal.i18n import translate

LATE_ICON = "⚠"


def working_days(n: int, lang: str) -> str:
    """``3 hari kerja`` / ``3 working days`` (``1 working day``)."""
    return translate(lang, "working_day_one" if n == 1 else "working_days", n=n)


def reported_later(days: int, lang: str) -> str:
    """``dilaporkan 3 hari kerja kemudian`` / ``reported 3 working days later``."""
    return translate(lang, "reported_later_one" if days == 1 else "reported_later", n=days)


@dataclass(frozen=True)
class LateReportNotice:
    """The notice at the top of a case page when any step was reported late."""

    icon: str
    headline: str
    text: str
    steps: int


def late_report_notice(case: PublicCaseV2, lang: str) -> LateReportNotice | None:
    """``None`` unless some step was reported later than the tolerance allows."""
    late = late_steps(case)
    if not late and not case.late_reported:
        return None
    count = max(len(late), 1)
    steps = translate(lang, "steps_one" if count == 1 else "steps_n", n=count)
    text = translate(lang, "late_report_text", steps=steps,
                     tol=working_days(case.reporting_tolerance_days, lang))
    title = translate(lang, "late_report_title_one" if count == 1 else "late_report_title")
    return LateReportNotice(LATE_ICON, title, text, count)


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def change_clocks(change: Mapping[str, Any], lang: str) -> str:
    """A feed entry's clocks in words: claimed and received time in the jurisdiction's zone;
    for a late report also by how much and which time the clock counts."""
    zone = str(change.get("timezone") or "Asia/Jakarta")
    at = _moment(change["at"])
    received = _moment(change.get("received_at") or at)
    text = translate(lang, "feed_clocks", at=long_time(at, zone, lang),
                     received=long_time(received, zone, lang))
    if change.get("late_reported"):
        tolerance = change.get("reporting_tolerance_days")
        text += " " + translate(
            lang, "feed_late", later=reported_later(int(change.get("reporting_delay_days") or 0),
                                                    lang),
            tol=working_days(int(tolerance), lang) if tolerance is not None else "–",
            counted=long_time(_moment(change.get("counted_at") or at), zone, lang))
    return text
