"""Helpers for intake's integration tests: temporary queues on the real broker, dev credentials."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pika

from pantau_intake.credentials.dev import DevDepartment, dev_department


class TempQueue:
    """An exclusive, auto-deleted queue bound to ``exchange`` with ``routing_key``.

    Lets a test observe what was published without consuming from the shared queues.
    """

    def __init__(self, amqp_url: str, exchange: str, routing_key: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.name = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.queue_bind(self.name, exchange, routing_key)
        self.messages: list[tuple[Any, Any, bytes]] = []

    def drain(self) -> list[tuple[Any, Any, bytes]]:
        while True:
            method, properties, body = self.channel.basic_get(self.name, auto_ack=True)
            if method is None:
                return self.messages
            self.messages.append((method, properties, body))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _m, _p, body in self.drain()]

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def dev(department: str) -> DevDepartment:
    return dev_department(department)


def department_url(amqp_url: str, department: str) -> str:
    """The broker URL logged in as the department's own (dev) AMQP user."""
    creds = dev(department)
    parts = urlsplit(amqp_url)
    user = creds.department.amqp_user
    return urlunsplit((parts.scheme, f"{user}:{creds.amqp_password}@{parts.hostname}:"
                       f"{parts.port or 5672}", parts.path, parts.query, ""))
