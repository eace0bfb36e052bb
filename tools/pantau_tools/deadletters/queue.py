"""The dead-letter queue over pika: fetch letters unacknowledged, publish with confirms, ack.

Letters are fetched with ``basic_get`` and not acknowledged; ``close`` returns every letter not
acked to the queue. ``publish`` returns once the broker confirmed and routed the message
(``mandatory``), else raises — the caller acks a letter only after that, so a letter is never
lost between the dead-letter queue and its destination.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pika

from pantau_contracts.routing import DEAD_LETTER_QUEUE
from pantau_platform.endpoints import first_url, split_urls
from pantau_tools.deadletters.provenance import Letter


@dataclass
class DeadLetter:
    delivery_tag: int
    routing_key: str
    properties: Any
    body: bytes

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})

    @property
    def id(self) -> str:
        return str(self.properties.message_id or hashlib.sha256(self.body).hexdigest()[:16])

    @property
    def user_id(self) -> str | None:
        return self.properties.user_id or None

    def facts(self) -> Letter:
        return Letter(user_id=self.user_id, routing_key=self.routing_key, headers=self.headers)


class DeadLetterQueue:
    """Fetches dead letters unacknowledged; ``close`` returns the ones not acked."""

    def __init__(self, amqp_url: str, queue: str = DEAD_LETTER_QUEUE) -> None:
        self.queue = queue
        self.user = unquote(urlsplit(first_url(amqp_url)).username or "guest")
        # a cluster's nodes: pika tries each in turn
        self.connection = pika.BlockingConnection([pika.URLParameters(url)
                                                   for url in split_urls(amqp_url)])
        self.channel = self.connection.channel()
        self.publish_channel = self.connection.channel()
        self.publish_channel.confirm_delivery()

    def fetch(self, limit: int = 10_000) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        while len(letters) < limit:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                break
            letters.append(DeadLetter(method.delivery_tag, method.routing_key, properties, body))
        return letters

    def publish(self, exchange: str, routing_key: str, body: bytes, *, like: DeadLetter,
                headers: Mapping[str, Any]) -> None:
        """Publish ``body`` as this tool's user (``user_id``), confirmed and routed, or raise."""
        props = pika.BasicProperties(
            content_type=like.properties.content_type, delivery_mode=2,
            message_id=like.properties.message_id, headers=dict(headers), user_id=self.user)
        self.publish_channel.basic_publish(exchange, routing_key, body, props, mandatory=True)

    def ack(self, letter: DeadLetter) -> None:
        self.channel.basic_ack(letter.delivery_tag)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()  # unacked letters go back to the queue
