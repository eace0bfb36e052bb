"""A tiny nameko service for the ``batch_consume`` integration tests, run as a real subprocess:
``python -m tests.integration.nameko.batch_service``.

Each message body is JSON ``{"id": ..., "poison": reason?, "fail": bool?, "hold": bool?,
"flake": n?, "away": n?, "outage": bool?}``:
``poison`` → returned as poison; ``fail`` → the method raises; ``hold`` → the method writes
``$BATCHTEST_DIR/started`` and waits until ``$BATCHTEST_DIR/release`` exists; ``flake`` → the
method raises ``RuntimeError`` the first n times it sees that id; ``away`` → the method raises
``DependencyUnavailable("testdb")`` whose probe answers False n times, then True (from then on the
"database" is back); ``outage`` → the method raises ``DependencyUnavailable("testdb")`` while
``$BATCHTEST_DIR/outage`` exists, with a probe answering whether it is gone. Every batch the
method sees is appended to ``$BATCHTEST_DIR/batches.jsonl`` (ids, delivery counts) first; every
probe answer to ``probes.jsonl``.
Env: ``BATCHTEST_QUEUE``, ``BATCHTEST_BATCH_SIZE``, ``BATCHTEST_BATCH_WAIT_MS``,
``BATCHTEST_PREFETCH``, ``BATCHTEST_DELIVERY_LIMIT``, ``BATCHTEST_UNKNOWN_RETRIES`` (the
extension's config overrides); ``BATCHTEST_HEALTH_PORT`` → the ``HEALTH_PORT`` config key.
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
from pantau_nameko.failures import DependencyUnavailable  # noqa: E402
from pantau_nameko.health import HealthServer  # noqa: E402

DIR = Path(os.environ.get("BATCHTEST_DIR", "."))
FLAKES: dict[Any, int] = {}  # id -> failures so far
AWAY = {"probes": 0, "back": False}


def record_probe(answer: bool) -> bool:
    with (DIR / "probes.jsonl").open("a") as out:
        out.write(json.dumps(answer) + "\n")
    return answer


def away_probe(times: int) -> bool:
    AWAY["probes"] += 1
    AWAY["back"] = AWAY["probes"] > times
    return record_probe(bool(AWAY["back"]))


def outage_probe() -> bool:
    return record_probe(not (DIR / "outage").exists())


class BatchTestService:
    name = "batchtest"
    health = HealthServer()

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
        for b in bodies:
            if b.get("away") and not AWAY["back"]:
                raise DependencyUnavailable("testdb", "connection refused",
                                            probe=lambda times=int(b["away"]): away_probe(times))
            if b.get("outage") and (DIR / "outage").exists():
                raise DependencyUnavailable("testdb", "not yet accepting connections",
                                            probe=outage_probe)
            if FLAKES.get(b["id"], 0) < int(b.get("flake", 0)):
                FLAKES[b["id"]] = FLAKES.get(b["id"], 0) + 1
                raise RuntimeError(f"flake {FLAKES[b['id']]} of {b['id']}")
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
    config["HEALTH_PORT"] = os.environ.get("BATCHTEST_HEALTH_PORT", "0")
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
