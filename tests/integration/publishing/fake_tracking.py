"""A stand-in for tracking's RPC ``list_public_cases`` (run as ``python -m``), serving records
from the JSON file ``FAKE_TRACKING_RECORDS`` under the service name ``FAKE_TRACKING_NAME`` — a
unique name, so a real tracking service on the same broker is never called by the test."""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from eventlet.event import Event  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

RECORDS: list[dict[str, Any]] = sorted(
    json.loads(Path(os.environ["FAKE_TRACKING_RECORDS"]).read_text()),
    key=lambda r: str(r["receipt_number"]))


class FakeTracking:
    name = os.environ["FAKE_TRACKING_NAME"]

    @rpc  # type: ignore[misc]
    def list_public_cases(self, after: str | None = None,
                          limit: int = 500) -> list[dict[str, Any]]:
        return [r for r in RECORDS if after is None or r["receipt_number"] > after][:limit]


def main() -> None:
    runner = ServiceRunner({"AMQP_URI": os.environ["PANTAU_AMQP_URL"]})
    runner.add_service(FakeTracking)
    stop = Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.ready() or stop.send(None))
    runner.start()
    sys.stdout.write("fake tracking ready\n")
    sys.stdout.flush()
    stop.wait()
    runner.stop()


if __name__ == "__main__":
    main()
