"""What a citizen needs to read first on a case page: where the service clock stands, in one
sentence, with a tone (colour) AND an icon AND words — colour is never the only signal.

Also the service's published standard (fee, requirements) from the catalogue the portal process
loads itself: that is public information about the service, not about the applicant, and it is
not part of the case record in the index.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from pantau_contracts.catalogue import Catalogue, CatalogueError, Service, load_catalogue
from pantau_contracts.payloads.public import PublicCaseV2
from pantau_contracts.vocabulary import PublicStatus
from pantau_publishing.domain.formatting import days, long_date
from pantau_publishing.domain.timeline import is_late
from pantau_publishing.portal.i18n import translate
from pantau_publishing.portal.transparency import HistoryCheck

log = logging.getLogger(__name__)

# Text symbols (not emoji images) so they inherit the text colour and need no font download;
# chosen from the basic symbol blocks every phone font has (⏱/⏸ rendered as empty boxes).
ICONS = {"ok": "✓", "late": "⚠", "open": "◔", "paused": "‖", "bad": "✕", "neutral": "⊘"}
STATUS_ICONS = {
    PublicStatus.DITERIMA: "●", PublicStatus.VERIFIKASI: "◔", PublicStatus.DIPROSES: "◔",
    PublicStatus.DIKEMBALIKAN: "↩", PublicStatus.DITOLAK: "✕", PublicStatus.SELESAI: "✓",
    PublicStatus.DIBATALKAN: "⊘",
}


def status_icon(status: str) -> str:
    try:
        return STATUS_ICONS[PublicStatus(status)]
    except ValueError:
        return "●"


def step_icon(tone: str, status: str) -> str:
    """The symbol in a timeline dot: a finished step is ticked whatever its status was."""
    return "✓" if tone == "done" else status_icon(status)


@dataclass(frozen=True)
class ClockSummary:
    """``tone`` is ok / late / open / paused / bad / neutral (a CSS class); ``icon`` a symbol;
    ``headline`` a short verdict; ``text`` the sentence with the numbers."""

    tone: str
    icon: str
    headline: str
    text: str


def clock_summary(case: PublicCaseV2, lang: str) -> ClockSummary:
    """The verdict on the service clock, in ``lang``."""
    values = {"elapsed": days(case.working_days_elapsed, lang),
              "max": case.max_working_days,
              "over": days(max(case.working_days_elapsed - case.max_working_days, 0), lang),
              "remaining": days(case.working_days_remaining, lang),
              "due": long_date(case.due_date, lang) if case.due_date else "–"}

    over = case.working_days_elapsed - case.max_working_days

    def summary(tone: str, headline: str, text: str) -> ClockSummary:
        sentence = translate(lang, text, **values)
        if lang == "en":  # English counts: "1 working day", "1 of 3 working days" stays
            sentence = re.sub(r"\b1 working days", "1 working day", sentence)
        if tone == "late" and over > 0:  # say by how much, when the numbers show it
            sentence += " " + translate(lang, "clock_over", over=values["over"])
        return ClockSummary(tone, ICONS[tone], translate(lang, headline), sentence)

    late = is_late(case)
    if case.status == PublicStatus.SELESAI:
        return summary("late", "clock_done_late", "clock_done_late_text") if late else \
            summary("ok", "clock_done_ok", "clock_done_ok_text")
    if case.status == PublicStatus.DITOLAK:
        return summary("bad", "clock_rejected", "clock_rejected_text")
    if case.status == PublicStatus.DIBATALKAN or case.withdrawn:
        return summary("neutral", "clock_withdrawn", "clock_withdrawn_text")
    if case.paused or case.status == PublicStatus.DIKEMBALIKAN:
        return summary("paused", "clock_paused", "clock_paused_text")
    if late:
        return summary("late", "clock_open_late", "clock_open_late_text")
    return summary("open", "clock_open", "clock_open_text")


@dataclass(frozen=True)
class HistoryNotice:
    """What the case page says about its history and the transparency log: ``state`` (see
    ``transparency.HistoryCheck``; also the block's id suffix), ``tone`` and ``icon`` as in
    ``ClockSummary``, a ``headline``, the sentence(s) in ``texts`` and, when known, the
    checkpoint the check used."""

    state: str
    tone: str
    icon: str
    headline: str
    texts: tuple[str, ...]
    tree_size: int | None
    checked_at: datetime | None


def step_list(seqs: tuple[int, ...], lang: str) -> str:
    """Steps by number: ``tahap ke-2 dan ke-4`` / ``steps 2 and 4``."""
    if lang == "en":
        numbers = [str(s) for s in seqs]
        joined = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + \
            numbers[-1]
        return ("step " if len(numbers) == 1 else "steps ") + joined
    numbers = [f"ke-{s}" for s in seqs]
    joined = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " dan " + numbers[-1]
    return "tahap " + joined


def history_notice(check: HistoryCheck, lang: str) -> HistoryNotice:
    """The transparency block of the case page for ``check``, in ``lang``."""
    def notice(tone: str, key: str, *texts: str) -> HistoryNotice:
        return HistoryNotice(check.state, tone, ICONS[tone], translate(lang, f"{key}_title"),
                             texts, check.tree_size, check.timestamp)

    if check.state == "mismatch":
        texts = [translate(lang, "history_mismatch_text",
                           steps=step_list(check.differs + check.unlogged, lang))
                 ] if check.differs or check.unlogged else []
        if check.missing:
            texts.append(translate(lang, "history_missing_text",
                                   steps=step_list(check.missing, lang)))
        return notice("bad", "history_mismatch", *texts,
                      translate(lang, "history_mismatch_advice"))
    if check.state == "pending":
        return notice("open", "history_pending",
                      translate(lang, "history_pending_text",
                                steps=step_list(check.pending, lang)))
    if check.state == "verified":
        return notice("ok", "verified", translate(lang, "verified_text"))
    return notice("neutral", "history_unavailable", translate(lang, "history_unavailable_text"))


class ServiceStandards:
    """The catalogue as the portal reads it; empty (every lookup None) when it cannot be loaded,
    so a broken catalogue never takes the case pages down."""

    def __init__(self, catalogue: Catalogue | None) -> None:
        self._catalogue = catalogue

    @property
    def catalogue(self) -> Catalogue | None:
        """The loaded catalogue (``None`` when it could not be loaded)."""
        return self._catalogue

    @classmethod
    def load(cls) -> ServiceStandards:
        try:
            return cls(load_catalogue())
        except (CatalogueError, OSError) as exc:
            log.warning("service catalogue not available to the portal: %s", exc)
            return cls(None)

    def service(self, jurisdiction: str, service_code: str) -> Service | None:
        if self._catalogue is None:
            return None
        return self._catalogue.service(jurisdiction, service_code)

    def version(self, jurisdiction: str) -> str | None:
        found = self._catalogue.jurisdiction(jurisdiction) if self._catalogue else None
        return found.version if found else None

    def standard_for(self, case: PublicCaseV2) -> Service | None:
        """The service standard the case was opened under, or ``None``.

        A case records ``catalogue_version`` as ``{jurisdiction}@{version}`` (e.g.
        ``kota-bandung@2026.1``) while the catalogue knows each jurisdiction's bare version
        (``2026.1``). Only when they name the same version is today's fee, requirements and
        stage targets also the case's; after a catalogue change they could differ, and showing
        the newer ones would mislead the citizen about their own case.
        """
        version = self.version(case.jurisdiction_code)
        if version is None or case.catalogue_version != f"{case.jurisdiction_code}@{version}":
            return None
        return self.service(case.jurisdiction_code, case.service_code)

    def feed_scopes(self, lang: str) -> list[tuple[str, str, str, int]]:
        """(scope, code, display name, depth) for every jurisdiction, department and service,
        in catalogue order — the list of feeds a journalist can subscribe to."""
        found: list[tuple[str, str, str, int]] = []
        if self._catalogue is None:
            return found
        for jurisdiction in self._catalogue.jurisdictions.values():
            found.append(("jurisdiction", jurisdiction.code, jurisdiction.name, 0))
            for department in jurisdiction.departments.values():
                name = department.name.en if lang == "en" else department.name.id
                found.append(("department", department.code, name, 1))
                for service in department.services.values():
                    label = service.name.en if lang == "en" else service.name.id
                    found.append(("service", service.code, label, 2))
        return found

    def scope_name(self, scope: str | None, code: str | None, lang: str) -> str | None:
        """The display name of a dashboard scope (jurisdiction/department/service code)."""
        if self._catalogue is None or not code:
            return None
        for jurisdiction in self._catalogue.jurisdictions.values():
            if scope == "jurisdiction" and jurisdiction.code == code:
                return str(jurisdiction.name)
            for department in jurisdiction.departments.values():
                if scope == "department" and department.code == code:
                    return str(department.name.en if lang == "en" else department.name.id)
                found = department.services.get(code) if scope == "service" else None
                if found is not None:
                    return str(found.name.en if lang == "en" else found.name.id)
        return None
