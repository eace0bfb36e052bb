"""``python -m pantau_tools.deadletters list | show ID | replay ID|--all | scrub [--older-than D]``

Works on the quorum queue ``pantau.dead-letter`` (bound to ``pantau.dlx``) with pika. Nothing a
letter's publisher could have written decides where it goes (``provenance``, ``routes``):

* ``list`` — per letter: id, the queue it died in (by whose word), who published it (the
  authenticated ``user_id``, or "unknown — not authenticated"), the broker's reason, Pantau's
  reason, and ``SUSPICIOUS`` when x-pantau-* headers contradict the broker's record or nobody
  vouches for the letter (non-destructive: letters are returned to the queue at the end);
* ``show ID`` — the same in full, the publisher's unbelieved claims, where a replay would go, and
  the body with the private ``data.applicant`` block masked;
* ``replay ID`` / ``replay --all`` — a letter that died in intake's ingress goes back through
  intake's own validation and authorisation *as the department user that published it*: the tool
  runs the ingress's checks first (``IngressHandler.refusal``) and, if they pass, publishes to
  ``pantau.ingress`` under its own login with ``x-pantau-replay-as`` naming that department
  (intake's ingress honours it only from ``PANTAU_INTAKE_TRUSTED_AMQP_USERS``). A letter that
  died in an internal queue goes back to that queue. Published with confirms, then the letter is
  acked. Anything refused is reported with its reason and stays in the queue (exit status 1);
* ``scrub [--older-than DAYS]`` — letters older than DAYS (default
  ``PANTAU_INTAKE_DEADLETTERS_SCRUB_DAYS``, 30) lose ``data.applicant``: the scrubbed copy is
  published back to the queue with confirms, then the original is acked; what a later safe
  replay needs is kept in ``x-pantau-provenance`` (see ``scrub``).

Whose word counts: ``PANTAU_INTAKE_DEADLETTERS_TRUSTED_PUBLISHERS`` (the Pantau services' AMQP
users, whose own dead letters' x-pantau-* headers are believed) and
``PANTAU_INTAKE_TRUSTED_AMQP_USERS`` (operators: this tool's login must be one of them).

A dead letter's ID is its ``message_id`` (the CloudEvent id), or a digest of the body if it has
none.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

import pika.exceptions

from pantau_contracts.routing import REPLAY_AS_HEADER, dead_letter_headers
from pantau_intake.adapters.directory import CatalogueDirectory
from pantau_intake.domain.messages import ReceivedMessage
from pantau_intake.service.ingress import IngressHandler
from pantau_intake.settings import IntakeSettings
from pantau_tools.deadletters.provenance import (
    NOT_AUTHENTICATED,
    Provenance,
    Trust,
    provenance,
)
from pantau_tools.deadletters.queue import DeadLetter, DeadLetterQueue
from pantau_tools.deadletters.routes import Refusal, Route, route
from pantau_tools.deadletters.scrub import is_due, scrubbed_headers, without_applicant

REPLAYED_HEADER = "x-pantau-replayed"


def main(argv: list[str] | None = None, settings: IntakeSettings | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings or IntakeSettings()
    trust = Trust.parse(settings.intake_deadletters_trusted_publishers,
                        settings.intake_trusted_amqp_users)
    dlq = DeadLetterQueue(settings.amqp_url)
    try:
        letters = dlq.fetch()
        if args.command == "list":
            return _list(dlq, letters, trust)
        if args.command == "scrub":
            days = settings.intake_deadletters_scrub_days if args.older_than is None \
                else args.older_than
            return _scrub(dlq, letters, trust, days)
        if args.command == "show":
            return _show(_find(letters, args.id), trust, _prechecker(trust, settings), dlq.user)
        if not args.all and not args.id:
            print("give a dead letter ID or --all", file=sys.stderr)
            return 2
        chosen = letters if args.all else _find(letters, args.id)
        return _replay(dlq, chosen, trust, _prechecker(trust, settings))
    finally:
        dlq.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pantau_tools.deadletters",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    show = sub.add_parser("show")
    show.add_argument("id")
    replay = sub.add_parser("replay")
    replay.add_argument("id", nargs="?")
    replay.add_argument("--all", action="store_true")
    scrub = sub.add_parser("scrub")
    scrub.add_argument("--older-than", type=float, default=None, metavar="DAYS")
    return parser


def _find(letters: list[DeadLetter], letter_id: str) -> list[DeadLetter]:
    found = [x for x in letters if x.id == letter_id]
    if not found:
        print(f"no dead letter {letter_id!r}", file=sys.stderr)
    return found


def _list(dlq: DeadLetterQueue, letters: list[DeadLetter], trust: Trust) -> int:
    print(f"{len(letters)} dead letter(s) in {dlq.queue}")
    for letter in letters:
        prov = provenance(letter.facts(), trust)
        flag = "  SUSPICIOUS" if prov.suspicious else ""
        print(f"{letter.id:38} died in {prov.died_in or '?':18} "
              f"published by {prov.publisher or NOT_AUTHENTICATED:30} "
              f"broker: {_broker(prov):28} pantau: {_pantau(prov)}{flag}")
    return 0


def _broker(prov: Provenance) -> str:
    if prov.broker is None:
        return "-"
    return f"{prov.broker.reason} in {prov.broker.queue} (x{prov.broker.count or '?'})"


def _pantau(prov: Provenance) -> str:
    return str((prov.pantau_reason or {}).get("reason", "-"))


def _show(found: list[DeadLetter], trust: Trust, check: IngressHandler, login: str) -> int:
    if not found:
        return 1
    letter = found[0]
    prov = provenance(letter.facts(), trust)
    print(f"id:             {letter.id}")
    print(f"published by:   {prov.publisher or NOT_AUTHENTICATED} (AMQP user_id, checked by "
          "RabbitMQ)")
    print(f"original sender: {prov.original_user or NOT_AUTHENTICATED}")
    print(f"vouched for by: {prov.vouched_by or 'nobody'}")
    print(f"died in:        {prov.died_in or '? (unknown)'}")
    print(f"broker reason:  {_broker(prov)}")
    print("pantau reason:  " + (json.dumps(prov.pantau_reason, indent=2, ensure_ascii=False)
                                if prov.pantau_reason else "- (none written by Pantau)"))
    for note in prov.suspicious:
        print(f"SUSPICIOUS:     {note}")
    if prov.claimed:
        print("claimed by the publisher (not believed): "
              + json.dumps(prov.claimed, indent=2, ensure_ascii=False))
    try:
        print(f"replay:         {_checked_route(letter, prov, check, login).describe()}")
    except Refusal as refusal:
        print(f"replay:         refused — {refusal}")
    print(f"content-type:   {letter.properties.content_type}")
    print("body:\n" + masked_body(letter.body))
    return 0


def _replay(dlq: DeadLetterQueue, chosen: list[DeadLetter], trust: Trust,
            check: IngressHandler) -> int:
    if not chosen:
        return 1
    refused = 0
    for letter in chosen:
        try:
            target = _checked_route(letter, provenance(letter.facts(), trust), check, dlq.user)
            headers = {k: v for k, v in dead_letter_headers(letter.headers).items()
                       if k != REPLAY_AS_HEADER}
            headers[REPLAYED_HEADER] = datetime.now(UTC).isoformat()
            if target.replay_as is not None:
                headers[REPLAY_AS_HEADER] = target.replay_as.amqp_user
            dlq.publish(target.exchange, target.routing_key, letter.body, like=letter,
                        headers=headers)
        except Refusal as refusal:
            refused += 1
            print(f"refused {letter.id}: {refusal} (left in the dead-letter queue)")
            continue
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
            refused += 1
            print(f"not replayed {letter.id}: the broker did not take it ({exc}); left in the "
                  "dead-letter queue")
            continue
        dlq.ack(letter)
        print(f"replayed {letter.id} to {target.describe()}")
    return 1 if refused else 0


def _checked_route(letter: DeadLetter, prov: Provenance, check: IngressHandler,
                   login: str) -> Route:
    """The route, with an ingress replay first put through intake's own checks exactly as the
    ingress will see it (this tool's login as ``user_id``, the department in replay-as)."""
    target = route(prov, letter.body)
    if target.replay_as is None:
        return target
    rejection = check.refusal(ReceivedMessage(
        body=letter.body, exchange=target.exchange, routing_key=target.routing_key,
        user_id=login, content_type=letter.properties.content_type,
        message_id=letter.properties.message_id,
        headers={REPLAY_AS_HEADER: target.replay_as.amqp_user}))
    if rejection is not None:
        raise Refusal(f"intake refuses it as {target.replay_as.amqp_user}: {rejection.reason} — "
                      f"{rejection.detail}")
    return target


def _prechecker(trust: Trust, settings: IntakeSettings) -> IngressHandler:
    """Intake's ingress use case, wired to nothing: only ``refusal`` is called on it."""
    return IngressHandler(CatalogueDirectory(), _NeverForward(), _NeverReject(),
                          trusted_users=trust.operators,
                          max_future_skew=float(settings.intake_max_future_skew_seconds))


class _NeverForward:
    def forward(self, events: Any) -> None:
        raise AssertionError("the pre-check never forwards")


class _NeverReject:
    def dead_letter(self, delivery: Any, rejection: Any) -> None:
        raise AssertionError("the pre-check never dead-letters")

    def feedback(self, department: Any, records: Any) -> None:
        raise AssertionError("the pre-check never tells a department")


def _scrub(dlq: DeadLetterQueue, letters: list[DeadLetter], trust: Trust, days: float) -> int:
    if dlq.user not in trust.operators:
        print(f"error: this tool's AMQP user {dlq.user!r} is not in "
              "PANTAU_INTAKE_TRUSTED_AMQP_USERS: a scrubbed letter could never be replayed",
              file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    scrubbed = 0
    for letter in letters:
        body = without_applicant(letter.body)
        prov = provenance(letter.facts(), trust)
        if body is None or not is_due(prov, now, days):
            continue
        dlq.publish("", dlq.queue, body, like=letter,
                    headers=scrubbed_headers(letter.headers, prov, now))
        dlq.ack(letter)  # only once the scrubbed copy is confirmed
        scrubbed += 1
        print(f"scrubbed {letter.id} (died {prov.dead_at.isoformat() if prov.dead_at else '?'})")
    print(f"{scrubbed} dead letter(s) scrubbed of data.applicant (older than {days:g} days)")
    return 0


def masked_body(body: bytes) -> str:
    """The body for display, with the private applicant block masked."""
    try:
        event = json.loads(body)
    except ValueError:
        return repr(body[:2000])
    if isinstance(event, dict) and isinstance(event.get("data"), dict) \
            and "applicant" in event["data"]:
        event["data"]["applicant"] = "[private — masked]"
    return json.dumps(event, indent=2, ensure_ascii=False)
