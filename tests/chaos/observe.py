"""What the chaos matrix looks at: queues and dead letters of the run's vhost, the public index,
the portal API, and ``python -m pantau_tools.reconcile``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pika

from pantau_contracts import routing
from pantau_platform.topology import ManagementClient, catalogue_departments
from tests.conftest import REPO

# the ingress reads the catch-all and each catalogue department's own queue (the topology);
# the mailer and intake's outcomes process read theirs: after every fault each queue must have
# its consumer back and drain
WORK_QUEUES = (routing.INTAKE_INGRESS_QUEUE,
               *(routing.department_ingress_queue(j, d) for j, d in catalogue_departments()),
               routing.TRACKING_QUEUE, routing.PUBLISHING_QUEUE, routing.FOLLOW_QUEUE,
               routing.INTAKE_OUTCOMES_QUEUE)


class Observer:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.amqp_url = env["PANTAU_AMQP_URL"]
        self.vhost = urlsplit(self.amqp_url).path.lstrip("/")
        self.management_url = env["PANTAU_AMQP_MANAGEMENT_URL"]
        self.management = ManagementClient(self.management_url, self.vhost)
        self.es_url = env["PANTAU_ELASTICSEARCH_URL"].rstrip("/")
        self.cases_alias = env["PANTAU_INDEX_ALIAS"]
        self.intake_url = f"http://127.0.0.1:{env['PANTAU_INTAKE_PORT']}"
        self.portal_url = f"http://127.0.0.1:{env['PANTAU_PORTAL_PORT']}"
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    # -- broker ---------------------------------------------------------------------------------
    def _declare(self, queue: str) -> Any:
        params = pika.URLParameters(self.amqp_url)
        params.connection_attempts = 1
        params.socket_timeout = 5
        connection = pika.BlockingConnection(params)
        try:
            return connection.channel().queue_declare(queue, passive=True).method
        finally:
            connection.close()

    def consumers(self, queue: str) -> int:
        """Consumers right now (a passive declare; the management API lags)."""
        return int(self._declare(queue).consumer_count)

    def dead_letters(self) -> int:
        """Depth of ``pantau.dead-letter`` in the run's vhost: the management API's count
        (ready + unacked, refreshed every few seconds) or the broker's own ready count from a
        passive declare, whichever is larger."""
        ready = int(self._declare(routing.DEAD_LETTER_QUEUE).message_count)
        managed = int(self.management.queue_info(routing.DEAD_LETTER_QUEUE).get("messages") or 0)
        return max(ready, managed)

    def dead_letter_sample(self, count: int = 5) -> list[dict[str, Any]]:
        """A few dead letters (peeked and requeued) with their reason, for the failure message."""
        parts = urlsplit(self.management_url)
        url = (f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api/queues/"
               f"{quote(self.vhost, safe='')}/{quote(routing.DEAD_LETTER_QUEUE, safe='')}/get")
        response = self.http.post(url, auth=(parts.username or "guest", parts.password or "guest"),
                                  json={"count": count, "ackmode": "reject_requeue_true",
                                        "encoding": "auto", "truncate": 2000})
        response.raise_for_status()
        sample = []
        for message in response.json():
            headers = message.get("properties", {}).get("headers", {}) or {}
            reason: Any = headers.get(routing.REASON_HEADER) or headers.get(
                "x-first-death-reason")
            try:
                reason = json.loads(reason) if isinstance(reason, str) else reason
            except ValueError:
                pass
            if isinstance(reason, dict):
                reason = f"{reason.get('reason')}: {str(reason.get('detail'))[:240]}"
            payload = str(message.get("payload"))
            subject = payload.split('"subject":"', 1)[1].split('"', 1)[0] \
                if '"subject":"' in payload else None
            sample.append({"routing_key": message.get("routing_key"), "subject": subject,
                           "reason": reason})
        return sample

    def work_in_queues(self) -> int:
        """Messages ready or unacknowledged on the work queues (management API)."""
        total = 0
        for queue in WORK_QUEUES:
            info = self.management.queue_info(queue)
            total += int(info.get("messages") or 0)
        total += sum(int(self._declare(q).message_count) for q in WORK_QUEUES)
        return total

    # -- the public side ------------------------------------------------------------------------
    def documents(self, receipts: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """The cases' index documents, real-time (``_mget`` by id = receipt number)."""
        ids = list(receipts)
        result: dict[str, dict[str, Any] | None] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            response = self.http.post(
                f"{self.es_url}/{self.cases_alias}/_mget",
                params={"_source_includes": "receipt_number,revision,status,timeline.seq,"
                                            "timeline.status"},
                json={"ids": chunk})
            response.raise_for_status()
            for doc in response.json()["docs"]:
                result[doc["_id"]] = doc.get("_source") if doc.get("found") else None
        return result

    def portal_case(self, receipt: str) -> dict[str, Any] | None:
        response = self.http.get(f"{self.portal_url}/api/v1/cases/{receipt}")
        return response.json() if response.status_code == 200 else None

    def readiness(self) -> list[str]:
        """What is not ready: the HTTP processes' /readyz and a consumer on each work queue."""
        problems = []
        for url in (f"{self.intake_url}/readyz", f"{self.portal_url}/readyz"):
            try:
                if self.http.get(url, timeout=3).status_code != 200:
                    problems.append(url)
            except httpx.HTTPError:
                problems.append(url)
        for queue in WORK_QUEUES:
            try:
                if not self.consumers(queue):
                    problems.append(f"consumer on {queue}")
            except Exception as exc:  # noqa: BLE001 - the broker itself may be away
                problems.append(f"{queue}: {type(exc).__name__}")
        return problems

    def reconcile(self) -> tuple[int, dict[str, Any] | None, str]:
        """``python -m pantau_tools.reconcile`` on the run's vhost and aliases: (exit code,
        its JSON report, its output)."""
        answer = subprocess.run([sys.executable, "-m", "pantau_tools.reconcile"], cwd=REPO,
                                env=self.env, capture_output=True, text=True, timeout=180)
        report = None
        for text in (answer.stdout.strip(), *reversed(answer.stdout.strip().splitlines())):
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                report = parsed
                break
        return answer.returncode, report, (answer.stdout + answer.stderr)[-2000:]


def diff_size(report: Mapping[str, Any] | None) -> int | None:
    """How many things differ in a reconcile report: its complete ``counts`` of missing, extra
    and stale receipts (the lists are capped) and the changes alias's count difference."""
    if report is None:
        return None
    counts = report.get("counts") or {}
    total = 0
    for key in ("missing", "extra", "stale"):
        count = counts.get(key) if isinstance(counts, dict) else None
        total += int(count) if isinstance(count, int) else len(report.get(key) or [])
    changes = report.get("changes") or {}
    if isinstance(changes, dict) and isinstance(changes.get("tracking"), int) \
            and isinstance(changes.get("index"), int):
        total += abs(changes["tracking"] - changes["index"])
    return total


def listed_receipts(report: Mapping[str, Any] | None) -> set[str]:
    """Receipt numbers a reconcile report names (its lists may be capped)."""
    found: set[str] = set()
    for key in ("missing", "extra", "stale"):
        value = (report or {}).get(key)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, str):
                found.add(item)
            elif isinstance(item, dict):
                found.update(str(v) for k, v in item.items() if "receipt" in k)
    return found
