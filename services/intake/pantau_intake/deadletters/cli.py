"""``python -m pantau_intake.deadletters list | show ID | replay ID | replay --all``

Works on the quorum queue ``pantau.dead-letter`` (bound to ``pantau.dlx``) with pika:

* ``list`` — id, origin exchange / routing key and reason of every dead letter (non-destructive:
  messages are fetched unacknowledged and returned to the queue when the command ends);
* ``show ID`` — the full reason (``x-pantau-reason`` from intake, or RabbitMQ's ``x-death`` for
  messages that exceeded the delivery limit), the headers and the body, with the private
  ``data.applicant`` block masked;
* ``replay ID`` / ``replay --all`` — republish to the origin exchange and routing key with
  publisher confirms, then remove the dead letter. The operator's AMQP user (PANTAU_AMQP_URL,
  normally ``pantau``) is put in ``user_id``; intake's ingress trusts it as an operator replay
  (PANTAU_INTAKE_TRUSTED_AMQP_USERS) but validates the event again.

A dead letter's ID is its ``message_id`` (the CloudEvent id), or a digest of the body if it has
none.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pika

from pantau_contracts.routing import (
    DEAD_LETTER_QUEUE,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_ROUTING_KEY_HEADER,
    REASON_HEADER,
)
from pantau_intake.settings import IntakeSettings


@dataclass
class DeadLetter:
    delivery_tag: int
    properties: Any
    body: bytes

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})

    @property
    def id(self) -> str:
        return str(self.properties.message_id or hashlib.sha256(self.body).hexdigest()[:16])

    @property
    def origin(self) -> tuple[str, str]:
        headers = self.headers
        exchange = headers.get(ORIGIN_EXCHANGE_HEADER)
        routing_key = headers.get(ORIGIN_ROUTING_KEY_HEADER)
        if exchange is None:
            death = (headers.get("x-death") or [{}])[0]
            exchange = death.get("exchange", "")
            keys = death.get("routing-keys") or [""]
            routing_key = keys[0]
        return _text(exchange), _text(routing_key)

    @property
    def reason(self) -> dict[str, Any]:
        headers = self.headers
        if REASON_HEADER in headers:
            try:
                parsed: dict[str, Any] = json.loads(_text(headers[REASON_HEADER]))
                return parsed
            except ValueError:
                return {"reason": _text(headers[REASON_HEADER])}
        death = (headers.get("x-death") or [{}])[0]
        return {"reason": f"broker:{_text(death.get('reason', 'unknown'))}",
                "detail": f"dead-lettered by RabbitMQ from queue {_text(death.get('queue', '?'))}"
                          f" after {death.get('count', '?')} time(s)"}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class DeadLetterQueue:
    """Fetches dead letters unacknowledged; ``close`` returns the ones not removed."""

    def __init__(self, amqp_url: str, queue: str = DEAD_LETTER_QUEUE) -> None:
        self.queue = queue
        self.user = unquote(urlsplit(amqp_url).username or "guest")
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.publish_channel = self.connection.channel()
        self.publish_channel.confirm_delivery()

    def fetch(self, limit: int = 10_000) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        while len(letters) < limit:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                break
            letters.append(DeadLetter(method.delivery_tag, properties, body))
        return letters

    def replay(self, letter: DeadLetter) -> tuple[str, str]:
        exchange, routing_key = letter.origin
        if not exchange:
            raise ValueError(f"dead letter {letter.id} has no origin exchange")
        headers = {k: v for k, v in letter.headers.items()
                   if not k.startswith("x-pantau-") and k != "x-death"}
        headers["x-pantau-replayed"] = "1"
        props = pika.BasicProperties(
            content_type=letter.properties.content_type, delivery_mode=2,
            message_id=letter.properties.message_id, headers=headers, user_id=self.user)
        self.publish_channel.basic_publish(exchange, routing_key, letter.body, props,
                                           mandatory=True)
        self.channel.basic_ack(letter.delivery_tag)
        return exchange, routing_key

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()  # unacked letters go back to the queue


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


def main(argv: list[str] | None = None, settings: IntakeSettings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pantau_intake.deadletters",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    show = sub.add_parser("show")
    show.add_argument("id")
    replay = sub.add_parser("replay")
    replay.add_argument("id", nargs="?")
    replay.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    settings = settings or IntakeSettings()
    dlq = DeadLetterQueue(settings.amqp_url)
    try:
        letters = dlq.fetch()
        if args.command == "list":
            print(f"{len(letters)} dead letter(s) in {dlq.queue}")
            for letter in letters:
                exchange, key = letter.origin
                print(f"{letter.id:40} {exchange}/{key:45} {letter.reason.get('reason')}")
            return 0
        if args.command == "show":
            found = [x for x in letters if x.id == args.id]
            if not found:
                print(f"no dead letter {args.id!r}", file=sys.stderr)
                return 1
            letter = found[0]
            exchange, key = letter.origin
            print(f"id:      {letter.id}\norigin:  {exchange} / {key}")
            print("reason:  " + json.dumps(letter.reason, indent=2, ensure_ascii=False))
            print(f"content-type: {letter.properties.content_type}")
            print("body:\n" + masked_body(letter.body))
            return 0
        if not args.all and not args.id:
            print("give a dead letter ID or --all", file=sys.stderr)
            return 2
        chosen = letters if args.all else [x for x in letters if x.id == args.id]
        if not chosen:
            print(f"no dead letter {args.id!r}", file=sys.stderr)
            return 1
        for letter in chosen:
            exchange, key = dlq.replay(letter)
            print(f"replayed {letter.id} to {exchange} / {key}")
        return 0
    finally:
        dlq.close()
