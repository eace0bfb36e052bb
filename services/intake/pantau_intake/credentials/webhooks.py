"""``python -m pantau_intake.credentials webhook …`` — a department's webhook.

    webhook set --department J/D --url URL [--events refusals,status,overdue]
    webhook show --department J/D
    webhook remove --department J/D          (pending deliveries wait; set again to resume)
    webhook deliveries --department J/D [--dead] [--limit N]
    webhook replay --department J/D [--since 2026-03-01T00:00:00+07:00]
                                             (dead deliveries back to pending, a fresh 24 h)

The URL must be https (http only to a loopback address outside production); in production a
host that is or resolves to a private, loopback or link-local address is refused
(``domain.webhooks.check_url``). Stored in intake's database (``intake_webhooks``).
"""

# ruff: noqa: T201 - a command-line tool prints its answers

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from pantau_intake.adapters.outcome_store import SqlOutcomeStore
from pantau_intake.adapters.webhook_http import resolve
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.domain.webhooks import Webhook, check_url, parse_subscriptions
from pantau_intake.settings import IntakeSettings


def _store(settings: IntakeSettings) -> SqlOutcomeStore:
    return SqlOutcomeStore(settings.credentials_database_url)


def cmd_set(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    url = check_url(args.url, production=settings.production, resolve=resolve)
    webhook = Webhook(department, url, parse_subscriptions(args.events))
    _store(settings).set_webhook(webhook)
    print(f"webhook for {department}: {url} ({','.join(webhook.subscriptions)})")
    return 0


def cmd_show(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    webhook = _store(settings).webhook(department)
    if webhook is None:
        print(f"no webhook for {department}")
        return 1
    print(f"{department}\t{webhook.url}\t{','.join(webhook.subscriptions)}")
    return 0


def cmd_remove(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    removed = _store(settings).remove_webhook(department)
    print(f"removed the webhook of {department}" if removed else f"no webhook for {department}")
    return 0 if removed else 1


def cmd_deliveries(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    rows = _store(settings).deliveries(department, dead_only=args.dead, limit=args.limit)
    print("id\tstate\tattempts\tevent\treceipt\tcreated\tlast")
    for r in rows:
        print(f"{r['id']}\t{r['state']}\t{r['attempts']}\t{r['event_type']}\t{r['receipt']}\t"
              f"{r['created_at']:%Y-%m-%dT%H:%M:%S}\t{r['last_note'] or ''}")
    return 0


def cmd_replay(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    since = datetime.fromisoformat(args.since) if args.since else None
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    count = _store(settings).replay(department, since, datetime.now(UTC))
    print(f"requeued {count} dead delivery(ies) of {department}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    webhook = sub.add_parser("webhook", help="a department's webhook (set|show|remove|"
                                             "deliveries|replay)")
    actions = webhook.add_subparsers(dest="action", required=True)
    for name, func in (("set", cmd_set), ("show", cmd_show), ("remove", cmd_remove),
                       ("deliveries", cmd_deliveries), ("replay", cmd_replay)):
        p = actions.add_parser(name)
        p.add_argument("--department", required=True, help="jurisdiction/department")
        p.set_defaults(func=func)
        if name == "set":
            p.add_argument("--url", required=True)
            p.add_argument("--events", default="refusals",
                           help="comma list of refusals, status, overdue (default refusals)")
        elif name == "deliveries":
            p.add_argument("--dead", action="store_true", help="dead deliveries only")
            p.add_argument("--limit", type=int, default=100)
        elif name == "replay":
            p.add_argument("--since", help="ISO 8601: only deliveries created since then")
