"""Wait until a local deployment is ready: HTTP health endpoints answer and every queue has a
consumer. Used by ``infra/run.sh`` and the end-to-end tests.

    python -m pantau_tools.ready [--timeout 120]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

import httpx

from pantau_contracts import routing
from pantau_platform.endpoints import first_url
from pantau_platform.settings import PantauSettings
from pantau_platform.topology import ManagementClient

QUEUES = (routing.INTAKE_INGRESS_QUEUE, routing.TRACKING_QUEUE, routing.PUBLISHING_QUEUE,
          routing.INTAKE_OUTCOMES_QUEUE, routing.FOLLOW_QUEUE)


def endpoints() -> list[str]:
    intake = f"http://127.0.0.1:{os.environ.get('PANTAU_INTAKE_PORT', '8001')}/readyz"
    portal = f"http://127.0.0.1:{os.environ.get('PANTAU_PORTAL_PORT', '8000')}/readyz"
    return [intake, portal]


def missing(settings: PantauSettings, urls: list[str], queues: tuple[str, ...]) -> list[str]:
    """What is not ready yet (empty when everything is)."""
    problems = []
    for url in urls:
        try:
            if httpx.get(url, timeout=2.0).status_code != 200:
                problems.append(url)
        except httpx.HTTPError:
            problems.append(url)
    vhost = urlsplit(first_url(settings.amqp_url)).path.lstrip("/") or "/"
    client = ManagementClient(settings.amqp_management_url, vhost)
    for queue in queues:
        try:
            if not client.queue_info(queue).get("consumers"):
                problems.append(f"consumer on {queue}")
        except httpx.HTTPError:
            problems.append(f"queue {queue}")
    return problems


def wait(timeout: float, urls: list[str] | None = None, queues: tuple[str, ...] = QUEUES,
         settings: PantauSettings | None = None) -> list[str]:
    settings = settings or PantauSettings()
    deadline = time.monotonic() + timeout
    while True:
        problems = missing(settings, endpoints() if urls is None else urls, queues)
        if not problems or time.monotonic() > deadline:
            return problems
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    problems = wait(args.timeout)
    if problems:
        sys.stderr.write("Not ready: " + ", ".join(problems) + "\n")
        return 1
    sys.stdout.write("All services ready.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
