"""A nameko consumer that hands the worker the raw message (bytes, routing key, properties).

nameko's own ``consume`` decodes the body by content type and passes only the body; intake needs
the exact bytes, the routing key and the ``user_id`` property, and must never crash the consumer
on an undecodable body. So the kombu consumer is given ``on_message`` (no decoding at all) and the
entrypoint builds a ``Delivery``. Failures requeue (``requeue_on_error``): a message is acked
only after it was forwarded or dead-lettered with confirms; the quorum queue's delivery limit
(5) dead-letters a message that keeps failing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from pantau_intake.service.ingress import Delivery


class RawQueueConsumer(QueueConsumer):  # type: ignore[misc]
    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], callbacks=[],
                                    on_message=partial(self._on_raw, provider),
                                    accept=None)
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _on_raw(self, provider: Any, message: Any) -> None:
        self.handle_message(provider, None, message)


class RawConsumer(Consumer):  # type: ignore[misc]
    queue_consumer = RawQueueConsumer()

    def __init__(self, queue: Any, **kwargs: Any) -> None:
        super().__init__(queue, requeue_on_error=True, **kwargs)

    def handle_message(self, body: Any, message: Any) -> None:
        props = message.properties or {}
        info = message.delivery_info or {}
        raw = message.body
        delivery = Delivery(
            body=raw if isinstance(raw, bytes) else str(raw).encode("utf-8"),
            exchange=str(info.get("exchange") or ""),
            routing_key=str(info.get("routing_key") or ""),
            user_id=props.get("user_id"), content_type=message.content_type,
            message_id=props.get("message_id"), headers=dict(message.headers or {}))
        handle_result = partial(self.handle_result, message)
        try:
            self.container.spawn_worker(self, (delivery,), {}, context_data={},
                                        handle_result=handle_result)
        except ContainerBeingKilled:  # shutting down: give the message back, unprocessed
            self.queue_consumer.requeue_message(message)


raw_consume = RawConsumer.decorator
