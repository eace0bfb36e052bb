"""Helpers for tracking's integration tests: real CloudEvents, real stores, a listener on the
broker, tracking's RPC without nameko."""

from __future__ import annotations

import json
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kombu import Connection, Exchange, Queue

from pantau_contracts.envelope import event_to_json, make_event
from tests.conftest import wait_for

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def department_event(event_type: str, receipt: str, *, department: str = "dpmptsp",
                     jurisdiction: str = "kota-bandung", sequence: int | None = None,
                     event_id: str | None = None, time: datetime | None = None,
                     **data: Any) -> bytes:
    """Structured-mode CloudEvent JSON as intake forwards it."""
    if event_type == "case.submitted":
        data.setdefault("service_code", "pbg")
    if event_type in ("case.returned", "case.rejected"):
        data.setdefault("reason", "Berkas belum lengkap")
    event = make_event(type=event_type, source=f"/{jurisdiction}/{department}",
                       data={"receipt_number": receipt, **data}, subject=receipt,
                       sequence=sequence, id=event_id or str(uuid.uuid4()),
                       time=time or T0 + timedelta(hours=sequence or 0))
    return event_to_json(event)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class Listener:
    """An exclusive, auto-deleted queue bound where the test wants to look."""

    def __init__(self, amqp_url: str, bindings: list[tuple[str, str]]) -> None:
        self.connection = Connection(amqp_url)
        self.channel = self.connection.channel()
        self.queue = Queue(f"test-tracking-{uuid.uuid4().hex[:8]}", exclusive=True,
                           auto_delete=True, channel=self.channel)
        self.queue.declare()
        for exchange, key in bindings:
            self.queue.bind_to(Exchange(exchange, passive=True), routing_key=key)
        self.messages: list[Any] = []

    def drain(self) -> list[Any]:
        while True:
            message = self.queue.get(no_ack=True)
            if message is None:
                return self.messages
            self.messages.append(message)

    def bodies(self, receipt: str) -> list[dict[str, Any]]:
        """Every JSON message seen so far whose subject is ``receipt``, in arrival order."""
        self.drain()
        found = []
        for message in self.messages:
            try:
                body = json.loads(message.body)
            except ValueError:
                continue
            if isinstance(body, dict) and body.get("subject") == receipt:
                found.append(body)
        return found

    def close(self) -> None:
        self.connection.release()


def rpc(amqp_url: str, method: str, *args: Any, timeout: float = 20) -> Any:
    """Call ``tracking.<method>`` over nameko's AMQP RPC protocol (plain kombu, no nameko)."""
    reply_to = f"test-rpc-{uuid.uuid4().hex[:8]}"
    correlation_id = uuid.uuid4().hex
    with Connection(amqp_url) as connection:
        channel = connection.channel()
        exchange = Exchange("nameko-rpc", type="topic", durable=True)
        queue = Queue(reply_to, exchange=exchange, routing_key=reply_to, exclusive=True,
                      auto_delete=True, channel=channel)
        queue.declare()
        producer = connection.Producer(channel)
        producer.publish(json.dumps({"args": list(args), "kwargs": {}}), exchange=exchange,
                         routing_key=f"tracking.{method}", reply_to=reply_to,
                         correlation_id=correlation_id, content_type="application/json")

        def reply() -> Any:
            message = queue.get(no_ack=True)
            if message is not None and message.properties.get("correlation_id") == correlation_id:
                return json.loads(message.body)
            return None

        answer = wait_for(reply, timeout=timeout, message=f"RPC reply to {method}")
    assert isinstance(answer, dict) and answer.get("error") is None, answer
    return answer["result"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
