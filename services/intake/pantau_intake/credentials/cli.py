"""``python -m pantau_intake.credentials`` — manage department credentials.

    issue DEPT [--label L]     new key for DEPT (jurisdiction/department); prints the secret ONCE
    rotate DEPT                new key; if DEPT already has 2 active keys the oldest is revoked
    revoke KEY_ID              revoke a key (effective within PANTAU_INTAKE_KEY_CACHE_SECONDS)
    list [DEPT]                keys (never secrets)
    bootstrap-dev [--file F]   load config/dev-departments.yaml (DEV ONLY: refused when
                               PANTAU_ENV=production, like apply-amqp --dev), idempotent
    apply-amqp --dev | DEPT [--password P]
                               RabbitMQ user + permissions + limits + feedback queue + own
                               ingress queue per department
    webhook set|show|remove|deliveries|replay --department DEPT …
                               the department's signed webhook (``credentials.webhooks``)
    rate set DEPT --rate R [--burst B] [--weight W] [--until +8h] | show [DEPT] | clear DEPT
                               the department's HTTP rate limit, e.g. raised for a backfill
                               (``credentials.rates``)

Store: SQLite ``intake.sqlite3`` in PANTAU_STATE_DIR, or PANTAU_INTAKE_DATABASE_URL.
Zero-downtime rotation: ``rotate`` → deploy the new key to the sender → ``revoke`` the old one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pantau_intake.adapters.credential_store import (
    CredentialError,
    CredentialStore,
    new_secret,
)
from pantau_intake.adapters.dev_credentials import DEV_FILE, load_dev_departments
from pantau_intake.adapters.secretbox import SecretBox
from pantau_intake.credentials import rates, webhooks
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings


def _store(settings: IntakeSettings) -> CredentialStore:
    return CredentialStore(settings.credentials_database_url, SecretBox(settings.intake_master_key))


def _check_catalogue(department: DepartmentRef, force: bool) -> None:
    from pantau_intake.adapters.directory import CatalogueDirectory

    if not force and not CatalogueDirectory().has_department(department.jurisdiction,
                                                             department.department):
        raise CredentialError(f"{department} is not in the service catalogue (--force to "
                              "issue anyway)")


def _print_new(record_key_id: str, department: DepartmentRef, secret: str) -> None:
    print(f"department: {department}")
    print(f"key_id:     {record_key_id}")
    print(f"secret:     {secret}")
    print("The secret is shown only now. Store it in the department's system; Pantau keeps it "
          "only encrypted.")


def cmd_issue(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    _check_catalogue(department, args.force)
    secret = new_secret()
    record = _store(settings).add(department, secret, label=args.label or "")
    _print_new(record.key_id, department, secret)
    return 0


def cmd_rotate(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department)
    _check_catalogue(department, args.force)
    store = _store(settings)
    active = [k for k in store.list(department) if k.active]
    if len(active) >= 2:
        oldest = min(active, key=lambda k: k.created_at)
        store.revoke(oldest.key_id)
        print(f"revoked the oldest active key {oldest.key_id}")
    secret = new_secret()
    record = store.add(department, secret, label=args.label or "rotated")
    _print_new(record.key_id, department, secret)
    remaining = [k.key_id for k in store.list(department) if k.active and k.key_id !=
                 record.key_id]
    if remaining:
        print(f"Still active: {', '.join(remaining)} — revoke it once the sender uses the new "
              "key.")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: IntakeSettings) -> int:
    record = _store(settings).revoke(args.key_id)
    print(f"revoked {record.key_id} ({record.department}) at "
          f"{record.revoked_at:%Y-%m-%dT%H:%M:%SZ}")
    return 0


def cmd_list(args: argparse.Namespace, settings: IntakeSettings) -> int:
    department = DepartmentRef.parse(args.department) if args.department else None
    for key in _store(settings).list(department):
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        print(f"{key.key_id:45} {str(key.department):32} {key.created_at:%Y-%m-%d %H:%M} "
              f"{state} {key.label}")
    return 0


def cmd_bootstrap_dev(args: argparse.Namespace, settings: IntakeSettings) -> int:
    if settings.production:
        raise CredentialError("bootstrap-dev loads the PUBLIC development keys: refused with "
                              "PANTAU_ENV=production (issue real keys with `issue`)")
    store = _store(settings)
    loaded = 0
    for entry in load_dev_departments(Path(args.file)):
        try:
            store.add(entry.department, entry.secret, key_id=entry.key_id, label="dev-only",
                      replace=True)
            loaded += 1
        except CredentialError as exc:
            print(f"skipped {entry.key_id}: {exc}", file=sys.stderr)
    print(f"loaded {loaded} DEV-ONLY department key(s) from {args.file}")
    return 0


def cmd_apply_amqp(args: argparse.Namespace, settings: IntakeSettings) -> int:
    import secrets

    from pantau_intake.credentials.amqp_users import apply_department_user, vhost_of
    from pantau_platform.topology import ManagementClient

    client = ManagementClient(settings.amqp_management_url, vhost_of(settings.amqp_url))
    client.wait_ready(30)
    limits = {"max_length": settings.ingress_queue_max_length,
              "max_connections": settings.intake_department_max_connections,
              "max_channels": settings.intake_department_max_channels}
    if args.dev:
        for entry in load_dev_departments(Path(args.file)):
            user = apply_department_user(client, entry.department, entry.amqp_password, **limits)
            print(f"applied {user} (dev password from {args.file})")
        return 0
    if not args.department:
        raise CredentialError("give a department (jurisdiction/department) or --dev")
    department = DepartmentRef.parse(args.department)
    password = args.password or secrets.token_urlsafe(24)
    user = apply_department_user(client, department, password, **limits)
    print(f"user:     {user}")
    if not args.password:
        print(f"password: {password}   (shown only now)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pantau_intake.credentials",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("issue", cmd_issue), ("rotate", cmd_rotate)):
        p = sub.add_parser(name)
        p.add_argument("department", help="jurisdiction/department, e.g. kota-bandung/dpmptsp")
        p.add_argument("--label", default="")
        p.add_argument("--force", action="store_true", help="skip the catalogue check")
        p.set_defaults(func=func)
    p = sub.add_parser("revoke")
    p.add_argument("key_id")
    p.set_defaults(func=cmd_revoke)
    p = sub.add_parser("list")
    p.add_argument("department", nargs="?")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("bootstrap-dev")
    p.add_argument("--file", default=str(DEV_FILE))
    p.set_defaults(func=cmd_bootstrap_dev)
    p = sub.add_parser("apply-amqp")
    p.add_argument("department", nargs="?")
    p.add_argument("--password")
    p.add_argument("--dev", action="store_true", help="all departments of the dev file")
    p.add_argument("--file", default=str(DEV_FILE))
    p.set_defaults(func=cmd_apply_amqp)
    webhooks.add_parser(sub)
    rates.add_parser(sub)
    return parser


OPERATOR_URLS = {"apply-amqp": ["amqp_url", "amqp_management_url"]}


def main(argv: list[str] | None = None, settings: IntakeSettings | None = None) -> int:
    from pantau_platform.production import enforce

    args = build_parser().parse_args(argv)
    settings = settings or IntakeSettings()
    # not the dev-key probe: `revoke` must run; apply-amqp uses the operator's broker URLs
    enforce(settings, needs=["intake_master_key", *OPERATOR_URLS.get(args.command, [])])
    if settings.production and getattr(args, "dev", False):
        print("error: --dev applies the PUBLIC development passwords: refused with "
              "PANTAU_ENV=production", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings))
    except (CredentialError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
