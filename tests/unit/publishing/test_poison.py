"""``PoisonCollector``: IndexBatch's dead letters become ``{index: reason}`` for the extension."""

from __future__ import annotations

from pantau_nameko.delivery import Delivery
from pantau_publishing.indexer.poison import PoisonCollector
from pantau_publishing.indexer.service import to_inbound
from pantau_publishing.service.indexing import IndexBatch
from pantau_publishing.service.ports import InboundMessage
from tests.unit.publishing.factories import case_updated, public_case
from tests.unit.publishing.fakes import FakeIndex


def test_rejected_messages_are_reported_by_position() -> None:
    same = b"{not json"
    messages = [InboundMessage(case_updated(public_case("PSN-0001-2026"))), InboundMessage(same),
                InboundMessage(same)]  # equal messages: still two positions
    poison = PoisonCollector(messages)
    IndexBatch(FakeIndex(), poison).handle(messages)
    assert sorted(poison.by_index) == [1, 2]
    assert poison.by_index[1]["reason"] == "contract-violation"


def test_deliveries_become_inbound_messages() -> None:
    delivery = Delivery(b"{}", "case.updated.kota-bandung", "pantau.cases", {"h": 1}, "m1", True)
    assert to_inbound(delivery) == InboundMessage(b"{}", "case.updated.kota-bandung",
                                                  "pantau.cases", {"h": 1}, "m1")
