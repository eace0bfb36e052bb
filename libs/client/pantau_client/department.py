"""``DepartmentClient``: a department's AMQP sender on pika, with store-and-forward.

    client = DepartmentClient(amqp_url, Department("kota-bandung", "dpmptsp"), spool_path)
    client.send(make_event(type="case.submitted", source="/kota-bandung/dpmptsp", data={...}))

* publishes to ``pantau.ingress`` with routing key ``{jurisdiction}.{department}.{type}``,
  publisher confirms, ``mandatory`` routing, persistent delivery, ``message_id`` = event id and
  ``user_id`` = the department's AMQP user (RabbitMQ checks it against the login);
* events are validated before sending as the ingress will (``ContractViolation`` is raised at
  once, nothing sent) — an event carrying intake's own ``pantaureceived`` included;
* when the broker is unreachable (or does not confirm) the event is appended to the spool and
  ``send`` returns ``"spooled"``; the spool is delivered, in order, before any new event as soon
  as the broker is reachable again (``flush()`` does it explicitly);
* a permission refusal (e.g. another department's routing key) raises ``PermissionError``: it
  would never succeed, so it is not spooled;
* ``amqp_url`` may list a RabbitMQ cluster's nodes, separated by commas or ``;``: each connection
  tries them in order (``broker_parameters``), so one node down loses nothing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Protocol

import pika
from cloudevents.core.v1.event import CloudEvent
from pika.exceptions import (
    AMQPConnectionError,
    AMQPError,
    ChannelClosedByBroker,
    NackError,
    UnroutableError,
)

from pantau_client.spool import Spool
from pantau_contracts import event_to_json, validate_event
from pantau_contracts.routing import INGRESS_EXCHANGE, department_key

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/cloudevents+json"


class Sender(Protocol):
    """Who publishes: anything naming its RabbitMQ user (``pantau_client.identity.Department``)."""

    @property
    def amqp_user(self) -> str: ...


class Unavailable(RuntimeError):
    """The broker did not take the message (unreachable or nack); it can be retried later."""


def broker_parameters(amqp_url: str, connect_timeout: float = 5.0) -> list[pika.URLParameters]:
    """One ``URLParameters`` per node of ``amqp_url`` (URLs separated by commas, ``;`` or
    blanks), in order: pika's ``BlockingConnection`` tries each until one answers."""
    urls = [url for url in re.split(r"[,;\s]+", amqp_url.strip()) if url]
    if not urls:
        raise ValueError("no AMQP URL given")
    parameters = []
    for url in urls:
        params = pika.URLParameters(url)
        params.connection_attempts = 1
        params.socket_timeout = connect_timeout
        params.blocked_connection_timeout = 30
        parameters.append(params)
    return parameters


class DepartmentClient:
    def __init__(self, amqp_url: str, department: Sender, spool_path: Path | str, *,
                 user_id: str | None = None, connect_timeout: float = 5.0) -> None:
        self._params = broker_parameters(amqp_url, connect_timeout)
        self.department = department
        self.user_id = user_id or department.amqp_user
        self.spool = Spool(Path(spool_path))
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None

    # --- public API -----------------------------------------------------------------------
    def send(self, event: CloudEvent | dict[str, Any] | bytes) -> str:
        """Validate and send one event; ``"sent"`` (confirmed) or ``"spooled"``."""
        record = self.record_for(event)
        if self.flush_quietly():
            try:
                self._publish(record)
                return "sent"
            except Unavailable as exc:
                log.warning("broker unavailable (%s); spooling event %s", exc,
                            record["message_id"])
        self.spool.append(record)
        return "spooled"

    def record_for(self, event: CloudEvent | dict[str, Any] | bytes) -> dict[str, Any]:
        """The spool/publish record for an event (validated; raises ``ContractViolation``)."""
        if isinstance(event, CloudEvent):
            body = event_to_json(event)
        elif isinstance(event, dict):
            import json

            body = json.dumps(event).encode()
        else:
            body = event
        validated = validate_event(body, inbound=True)
        return {"exchange": INGRESS_EXCHANGE,
                "routing_key": department_key(validated.jurisdiction, validated.department,
                                              validated.type),
                "message_id": validated.id, "body": body.decode("utf-8")}

    def publish(self, record: dict[str, Any]) -> None:
        """Publish a ``record_for`` record now, waiting for the broker's confirm; never spools
        (raises ``Unavailable``, ``PermissionError``, or ``RuntimeError`` if unroutable). The
        backfill uses it: its checkpoint, not the spool, remembers what is left."""
        self._publish(record)

    def publish_raw(self, routing_key: str, body: bytes, message_id: str | None = None) -> None:
        """Publish bytes as they are (no validation, no spool). For tests and tools."""
        self._publish({"exchange": INGRESS_EXCHANGE, "routing_key": routing_key,
                       "message_id": message_id, "body": body})

    def flush(self) -> int:
        """Deliver the spool in order; raises ``Unavailable`` if the broker is still away."""
        return self.spool.drain(self._publish)

    def flush_quietly(self) -> bool:
        """Try to deliver the spool; True when it is empty afterwards."""
        if not self.spool.path.exists() or not self.spool.pending():
            return True
        try:
            delivered = self.flush()
            log.info("delivered %d spooled event(s)", delivered)
            return True
        except Unavailable as exc:
            log.info("spool not delivered yet: %s", exc)
            return False

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.close()
            except AMQPError:
                pass
        self._connection = self._channel = None

    def __enter__(self) -> DepartmentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------
    def _ensure_channel(self) -> Any:
        if self._connection is None or not self._connection.is_open or \
                self._channel is None or not self._channel.is_open:
            self.close()
            try:
                self._connection = pika.BlockingConnection(self._params)
            except (AMQPConnectionError, OSError) as exc:
                raise Unavailable(f"cannot connect: {exc!r}") from exc
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def _publish(self, record: dict[str, Any]) -> None:
        channel = self._ensure_channel()
        body = record["body"]
        body = body.encode("utf-8") if isinstance(body, str) else body
        properties = pika.BasicProperties(
            content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
            message_id=record.get("message_id"), user_id=self.user_id)
        try:
            channel.basic_publish(record["exchange"], record["routing_key"], body, properties,
                                  mandatory=True)
        except ChannelClosedByBroker as exc:
            self._channel = None
            if exc.reply_code in (403, 406):  # ACCESS_REFUSED / PRECONDITION_FAILED (user_id)
                raise PermissionError(f"the broker refused the publish: {exc.reply_text}") from exc
            raise Unavailable(str(exc)) from exc
        except UnroutableError as exc:
            raise RuntimeError(f"unroutable: {record['routing_key']} (is the topology applied?)"
                               ) from exc
        except NackError as exc:
            raise Unavailable("the broker did not confirm (nack)") from exc
        except (AMQPError, OSError) as exc:
            self.close()
            raise Unavailable(f"connection lost: {exc!r}") from exc
