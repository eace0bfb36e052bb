"""``Delivery``: one AMQP message as a batched service method sees it (nothing decoded)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DELIVERY_COUNT_HEADER = "x-delivery-count"
"""Set by quorum queues on a redelivered message: how many earlier deliveries were returned."""


@dataclass(frozen=True)
class Delivery:
    """The raw body (bytes, whatever the content type) plus where it came from.

    Decoding is the contract layer's job, so the body is handed over untouched.
    """

    body: bytes
    routing_key: str = ""
    exchange: str = ""
    headers: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    redelivered: bool = False
    user_id: str | None = None
    """The AMQP ``user_id`` property (RabbitMQ checks it is the publishing user's name)."""
    content_type: str | None = None
    """The AMQP ``content_type`` property, as sent."""
    queue: str = ""
    """The queue it was consumed from (a consumer may read several)."""

    @property
    def delivery_count(self) -> int:
        """Earlier unsuccessful deliveries (0 on the first), from the quorum queue's header."""
        return delivery_count(self.headers)


def delivery_count(headers: Mapping[str, Any] | None) -> int:
    """``x-delivery-count`` as an int; 0 when absent or unreadable (a first delivery)."""
    try:
        return max(0, int((headers or {}).get(DELIVERY_COUNT_HEADER, 0)))
    except (TypeError, ValueError):
        return 0


def as_bytes(body: Any) -> bytes:
    """kombu hands ``bytes`` (or ``str`` for some transports); the worker always gets bytes."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    return str(body).encode("utf-8")
