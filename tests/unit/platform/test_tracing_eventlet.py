"""The OTLP path's ``BatchSpanProcessor`` under eventlet: its worker thread is a green thread after
monkey-patching, and it still exports on its own and shuts down at once. Run in a subprocess (the
test process must not be monkey-patched); an in-memory exporter stands in for OTLP (no network)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import eventlet
eventlet.monkey_patch()
import time
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pantau_platform import tracing
exporter = InMemorySpanExporter()
provider = tracing.configure("green", extra_processor=BatchSpanProcessor(
    exporter, schedule_delay_millis=50))
def work(i):
    with tracing.batch_span(f"s{i}", []):
        eventlet.sleep(0.01)
pool = eventlet.GreenPool(50)
for i in range(200):
    pool.spawn(work, i)
pool.waitall()
deadline = time.monotonic() + 10
while len(exporter.get_finished_spans()) < 200 and time.monotonic() < deadline:
    eventlet.sleep(0.05)
exported = len(exporter.get_finished_spans())
started = time.monotonic()
provider.shutdown()
print(exported, time.monotonic() - started < 2)
"""


def test_batch_span_processor_exports_from_a_green_thread() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == ["200", "True"]
