"""``PoisonCollector``: the ``DeadLetters`` port of one batch, answered by the batch entrypoint.

``IndexBatch`` reports each message it cannot index (with a reason) to its ``DeadLetters``
port. In the nameko indexer that port only records the message's position in the batch; the
entrypoint returns ``{index: reason}`` and the shared ``pantau_nameko.batching`` extension
dead-letters those messages (publisher-confirmed) before it acks the batch — so "dead-lettered"
still holds before anything is acked, and dead-lettering looks the same in every service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pantau_publishing.service.ports import InboundMessage


class PoisonCollector:
    """Collects ``{position in batch: reason}`` for the messages of one batch."""

    def __init__(self, messages: Sequence[InboundMessage]) -> None:
        # by identity: the same object is handed back; equal messages may occur twice in a batch
        self._positions = {id(message): index for index, message in enumerate(messages)}
        self.by_index: dict[int, dict[str, Any]] = {}

    def dead_letter(self, message: InboundMessage, reason: Mapping[str, Any]) -> None:
        self.by_index[self._positions[id(message)]] = dict(reason)
