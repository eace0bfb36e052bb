"""How a backfill lane delivers its batches (``pantau_client.backfill.Transport``).

* ``HttpTransport`` — one signed batch request per batch (``HttpSender.post_once``). 202: all
  accepted. 429 (intake's rate limit), 5xx and lost connections: wait ``Retry-After`` (else an
  exponential backoff up to ``max_backoff``) and send again, for as long as it takes — never
  dropped. A batch refused with per-event results: the refused events are returned (they go to
  ``FILE.refused``) and the others are sent again at once, before the lane's next batch, so a
  case's order holds. Another 4xx: 401/403 stop the backfill (``Fatal``: the key is wrong);
  otherwise the batch is halved until the refused event is alone.
* ``AmqpTransport`` — each event published to ``pantau.ingress`` with the broker's confirm
  (``DepartmentClient.publish``); a broker away is waited for (reconnecting with backoff), a
  permission refusal is ``Fatal``. The ingress refuses an event asynchronously: see
  ``pantau-client refusals``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pantau_client.backfill import Fatal, Line, Refusal, Stopped
from pantau_client.department import DepartmentClient, Unavailable
from pantau_client.http_sender import BATCH, HttpSender


class Backoff:
    """Waits that grow (0.5 s doubling up to ``ceiling``) and end early when ``stop`` is set."""

    def __init__(self, stop: threading.Event, ceiling: float = 30.0) -> None:
        self._stop, self._ceiling = stop, ceiling
        self._next = 0.5
        self.waits = 0

    def wait(self, seconds: float | None = None) -> None:
        delay = self._next if seconds is None else min(max(seconds, 0.0), 2 * self._ceiling)
        self._next = min(self._ceiling, self._next * 2)
        self.waits += 1
        if self._stop.wait(delay):
            raise Stopped("stopping")

    def reset(self) -> None:
        self._next = 0.5


def retry_after(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header (delta-seconds or an HTTP date), None if absent."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None


class HttpTransport:
    def __init__(self, sender: HttpSender, stop: threading.Event, *,
                 max_backoff: float = 30.0) -> None:
        self._sender, self._stop = sender, stop
        self._backoff = Backoff(stop, max_backoff)
        self.throttled = 0  # 429 answers waited for

    def send(self, batch: list[Line]) -> list[Refusal]:
        refused: list[Refusal] = []
        todo = [batch]
        while todo:
            chunk = todo.pop(0)
            answer = self._deliver(chunk)
            if answer is None:
                continue
            refusals, again = _split_refusal(chunk, answer)
            refused += refusals
            todo[:0] = again  # before anything later in the lane: a case keeps its order
        return refused

    def close(self) -> None:
        self._sender.close()

    def _deliver(self, chunk: Sequence[Line]) -> httpx.Response | None:
        """Send until intake answers 202 (None) or a refusal (the response)."""
        body = b"[" + b",".join(line.body for line in chunk) + b"]"
        while True:
            if self._stop.is_set():
                raise Stopped("stopping")
            try:
                response = self._sender.post_once(body, BATCH)
            except httpx.TransportError:
                self._backoff.wait()
                continue
            if response.status_code == 202:
                self._backoff.reset()
                return None
            if response.status_code == 429 or response.status_code >= 500:
                self.throttled += response.status_code == 429
                self._backoff.wait(retry_after(response.headers.get("Retry-After")))
                continue
            return response


def _split_refusal(chunk: Sequence[Line], response: httpx.Response
                   ) -> tuple[list[Refusal], list[list[Line]]]:
    """(refused lines, sub-batches to send again) from a 4xx answer to ``chunk``."""
    problem = _problem(response)
    results = problem.get("results")
    if isinstance(results, list) and len(results) == len(chunk):
        refused = [Refusal(chunk[int(r["index"])], _reason(r.get("problem"), r.get("detail")),
                           r.get("errors") or []) for r in results if r.get("problem")]
        if refused:
            numbers = {r.line.number for r in refused}
            rest = [line for line in chunk if line.number not in numbers]
            return refused, [rest] if rest else []
    if response.status_code in (401, 403):
        raise Fatal(f"intake refused the department's key: {response.status_code} "
                    f"{problem.get('detail', '')}")
    if len(chunk) > 1:
        half = len(chunk) // 2
        return [], [list(chunk[:half]), list(chunk[half:])]
    return [Refusal(chunk[0], _reason(problem.get("type"), problem.get("detail")),
                    problem.get("errors") or [])], []


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {"status": response.status_code, "detail": response.text[:500]}
    return answer if isinstance(answer, dict) else {"status": response.status_code}


def _reason(kind: Any, detail: Any) -> str:
    slug = str(kind or "refused").rstrip("/").rsplit("/", 1)[-1]
    return f"{slug}: {detail}" if detail else slug


class AmqpTransport:
    def __init__(self, client: DepartmentClient, stop: threading.Event, *,
                 max_backoff: float = 30.0) -> None:
        self._client, self._stop = client, stop
        self._backoff = Backoff(stop, max_backoff)

    def send(self, batch: list[Line]) -> list[Refusal]:
        for line in batch:
            assert line.record is not None, "AMQP lines are checked locally"
            self._publish(line.record)
        return []

    def close(self) -> None:
        self._client.close()

    def _publish(self, record: dict[str, Any]) -> None:
        while True:
            if self._stop.is_set():
                raise Stopped("stopping")
            try:
                self._client.publish(record)
                self._backoff.reset()
                return
            except Unavailable:
                self._client.close()
                self._backoff.wait()
            except PermissionError as exc:
                raise Fatal(str(exc)) from exc
            except RuntimeError as exc:  # unroutable: the topology is missing
                raise Fatal(str(exc)) from exc
