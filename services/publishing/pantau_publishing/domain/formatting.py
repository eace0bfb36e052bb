"""How dates, times, money and working days read in public text — the portal's pages and the
follow mails (``service.follow_mail``) — per language. Plain Python, so both may use it.

Bahasa Indonesia writes dates as ``2 Desember 2026`` and clock times with a full stop
(``pukul 14.05 WIB``, the official spelling rule); English gets ``2 December 2026, 14:05 WIB``.
Times are always converted to the jurisdiction's zone and carry its label (WIB/WITA/WIT), because
a citizen compares them with the clock on the wall of the office, not with UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pantau_publishing.domain.timeline import zone_label

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def long_date(day: date, lang: str) -> str:
    """``2 Desember 2026`` / ``2 December 2026``."""
    months = MONTHS.get(lang, MONTHS["id"])
    return f"{day.day} {months[day.month - 1]} {day.year}"


def _local(moment: datetime, timezone: str) -> datetime:
    try:
        return moment.astimezone(ZoneInfo(timezone))
    except (KeyError, ValueError):  # unknown zone: show it as stored (UTC), still labelled
        return moment


def long_time(moment: datetime, timezone: str, lang: str) -> str:
    """``2 Desember 2026, pukul 14.05 WIB`` / ``2 December 2026, 14:05 WIB``."""
    local = _local(moment, timezone)
    if lang == "en":
        clock = f"{local:%H:%M}"
        return f"{long_date(local.date(), lang)}, {clock} {zone_label(timezone)}"
    return f"{long_date(local.date(), lang)}, pukul {local:%H.%M} {zone_label(timezone)}"


def days(value: float | None, lang: str) -> str:
    """A working-day count: whole numbers without decimals, else one decimal with the
    language's decimal mark (``4,5`` in Indonesian). ``–`` when unknown."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "id" else text


def rupiah(amount: int, lang: str) -> str:
    """``Rp 150.000`` (Indonesian thousands separator is the full stop in both languages, since
    the currency is Indonesian); ``Gratis`` / ``Free`` for zero."""
    if amount == 0:
        return "Gratis" if lang == "id" else "Free of charge"
    return "Rp " + f"{amount:,}".replace(",", ".")


def percent(share: float | None) -> str:
    """A share (0..1) as a whole percentage that never rounds to a claim the data does not
    support: ``99,6 %`` of events on time is ``>99%``, not ``100%``; ``0,4 %`` is ``<1%``."""
    if share is None:
        return "–"
    value = share * 100
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{round(value)}%"
