"""A tiny nameko service for the ``batch_consume`` integration tests, run as a real subprocess:
``python -m tests.integration.nameko.batch_service``.

Each message body is JSON ``{"id": ..., "poison": reason?, "fail": bool?, "hold": bool?}``:
``poison`` → returned as poison; ``fail`` → the method raises; ``hold`` → the method writes
``$BATCHTEST_DIR/started`` and waits until ``$BATCHTEST_DIR/release`` exists. Every batch the
method sees is appended to ``$BATCHTEST_DIR/batches.jsonl`` (ids, delivery counts) first.
Env: ``BATCHTEST_QUEUE``, ``BATCHTEST_BATCH_SIZE``, ``BATCHTEST_BATCH_WAIT_MS``,
``BATCHTEST_PREFETCH``, ``BATCHTEST_DELIVERY_LIMIT`` (the extension's config overrides).
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from pantau_nameko.batching import Delivery, batch_consume  # noqa: E402

DIR = Path(os.environ.get("BATCHTEST_DIR", "."))


class BatchTestService:
    name = "batchtest"

    @batch_consume("batchtest.unset", max_size=50, max_wait_ms=100, prefetch=100,
                   config_prefix="BATCHTEST")
    def handle(self, deliveries: list[Delivery]) -> dict[int, Any]:
        bodies = [json.loads(d.body) for d in deliveries]
        with (DIR / "batches.jsonl").open("a") as out:
            out.write(json.dumps({"ids": [b["id"] for b in bodies],
                                  "counts": [d.delivery_count for d in deliveries],
                                  "redelivered": [d.redelivered for d in deliveries]}) + "\n")
        if any(b.get("hold") for b in bodies):
            (DIR / "started").write_text("1")
            while not (DIR / "release").exists():
                eventlet.sleep(0.02)
        if any(b.get("fail") for b in bodies):
            raise RuntimeError("boom: " + ",".join(str(b["id"]) for b in bodies))
        with (DIR / "done.jsonl").open("a") as out:
            out.write(json.dumps([b["id"] for b in bodies]) + "\n")
        return {i: {"reason": "test-poison", "why": b["poison"]}
                for i, b in enumerate(bodies) if b.get("poison")}


def main() -> int:
    logging.basicConfig(level=logging.INFO)
    config: dict[str, Any] = {"AMQP_URI": os.environ["PANTAU_AMQP_URL"]}
    config.update({k: v for k, v in os.environ.items() if k.startswith("BATCHTEST_")})
    runner = ServiceRunner(config)
    runner.add_service(BatchTestService)

    def shutdown(signum: int, frame: object) -> None:
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    runner.start()
    runner.wait()
    logging.getLogger("batchtest").info("stopped cleanly")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
