"""``python -m pantau_intake.credentials rate …`` — a department's own HTTP rate limit.

    rate set DEPT --rate 2500 --burst 5000 [--weight 1] [--until 2026-12-03T06:00:00+07:00 | +8h]
    rate show [DEPT]                       (settings and the defaults; expired raises marked)
    rate clear DEPT                        (back to the defaults)

A department without a setting gets PANTAU_INTAKE_RATE_PER_SECOND / _BURST. ``--until`` makes
a temporary raise (a backfill window): afterwards the defaults apply again, with no one having to
remember to lower it. ``--weight`` is the department's weight in the fair sharing of each HTTP
process's capacity (PANTAU_INTAKE_RATE_CAPACITY_PER_SECOND, see ``domain.rate_limit``).
Stored in intake's database (``intake_rate_limits``); each HTTP process reads it at most every
10 s, so a change applies within that time without a restart.
"""

# ruff: noqa: T201 - a command-line tool prints its answers

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from pantau_intake.adapters.credential_store import CredentialError, CredentialStore
from pantau_intake.adapters.secretbox import SecretBox
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.rate_limit import DepartmentRate
from pantau_intake.settings import IntakeSettings

_RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_until(text: str | None, now: datetime) -> datetime | None:
    """``+8h`` / ``+30m`` / ``+2d`` from ``now``, or an ISO 8601 moment with its offset."""
    if not text:
        return None
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now + timedelta(**{_UNITS[relative.group(2)]: float(relative.group(1))})
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise CredentialError("--until needs an offset (e.g. +07:00) or the +8h form")
    if moment <= now:
        raise CredentialError("--until is in the past")
    return moment.astimezone(UTC)


def _store(settings: IntakeSettings) -> CredentialStore:
    return CredentialStore(settings.credentials_database_url, SecretBox(settings.intake_master_key))


def cmd_set(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    until = parse_until(args.until, datetime.now(UTC))
    rate = DepartmentRate(args.rate, args.burst if args.burst is not None else
                          max(1.0, 2 * args.rate), args.weight, until)
    _store(settings).set_rate(department, rate)
    print(f"{department}: {_describe(rate)}")
    return 0


def cmd_show(args: argparse.Namespace, settings: IntakeSettings) -> int:
    rates = _store(settings).rates()
    now = datetime.now(UTC)
    if args.department:
        department = DepartmentRef.parse(args.department)
        rates = {department: rates[department]} if department in rates else {}
        if not rates:
            print(f"{department}: defaults")
    for department, rate in sorted(rates.items(), key=lambda item: str(item[0])):
        expired = "" if rate.in_force(now) else "  (expired: defaults apply)"
        print(f"{department}: {_describe(rate)}{expired}")
    print(f"defaults: {settings.intake_rate_per_second:g} events/s, burst "
          f"{settings.intake_rate_burst}; capacity per process "
          f"{settings.intake_rate_capacity_per_second:g} events/s")
    return 0


def cmd_clear(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    cleared = _store(settings).clear_rate(department)
    print(f"{department}: defaults" + ("" if cleared else " (it had no setting)"))
    return 0


def _describe(rate: DepartmentRate) -> str:
    limit = "unlimited" if rate.rate <= 0 else f"{rate.rate:g} events/s, burst {rate.burst:g}"
    until = f", until {rate.until:%Y-%m-%dT%H:%M:%SZ}" if rate.until else ""
    return f"{limit}, weight {rate.weight:g}{until}"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rate = sub.add_parser("rate", help="a department's HTTP rate limit (set|show|clear)")
    actions = rate.add_subparsers(dest="action", required=True)
    p = actions.add_parser("set")
    p.add_argument("department", help="jurisdiction/department")
    p.add_argument("--rate", type=float, required=True, help="events/s (0: no ceiling)")
    p.add_argument("--burst", type=float, help="bucket size in events (default 2 × rate)")
    p.add_argument("--weight", type=float, default=1.0, help="fair-share weight (default 1)")
    p.add_argument("--until", help="end of a temporary raise: ISO 8601 with offset, or +8h")
    p.set_defaults(func=cmd_set)
    p = actions.add_parser("show")
    p.add_argument("department", nargs="?")
    p.set_defaults(func=cmd_show)
    p = actions.add_parser("clear")
    p.add_argument("department")
    p.set_defaults(func=cmd_clear)
