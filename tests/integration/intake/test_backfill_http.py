"""``pantau-client backfill`` over HTTP against a real intake process and broker: killed midway
(SIGKILL) and restarted, every event reaches ``tracking.accepted`` exactly once, each case in
order; and while one department backfills at its limit, another's requests are still served."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pantau_client.backfill import Checkpoint
from pantau_client.http_sender import HttpSender
from pantau_contracts.routing import ACCEPTED_EXCHANGE
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.settings import IntakeSettings
from tests.conftest import REPO, wait_for
from tests.integration.intake.helpers import TempQueue, dev, receipt
from tests.integration.intake.running import start_intake

pytestmark = pytest.mark.integration
STEPS = (("case.submitted", {"service_code": "pbg"}),
         ("case.stage_started", {"stage": "verifikasi-berkas"}),
         ("case.stage_started", {"stage": "pemeriksaan-teknis"}),
         ("case.completed", {}))
PROGRESS = re.compile(r"\d+/\d+ \[\d\d:\d\d<\d\d:\d\d, +[\d.]+event/s\]")


def write_history(path: Path, cases: int) -> list[dict[str, Any]]:
    """``cases`` Kota Bandung DPMPTSP cases × 4 steps, interleaved as a real history is."""
    receipts = [receipt(tag="BF") for _ in range(cases)]
    start = datetime.now(UTC) - timedelta(days=30)
    events = [{"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/kota-bandung/dpmptsp",
               "type": kind, "time": (start + timedelta(minutes=step)).isoformat(),
               "sequence": step, "data": {"receipt_number": number, **data}}
              for step, (kind, data) in enumerate(STEPS, start=1) for number in receipts]
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return events


def backfill_command(url: str, path: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "pantau_client", "--dev", "--via", "http", "--http-url", url,
            "--department", "kota-bandung/dpmptsp", "backfill", str(path), *options]


def set_rate(state: Path, *arguments: str) -> None:
    assert credentials_main(["rate", "set", "kota-bandung/dpmptsp", *arguments],
                            settings=IntakeSettings(state_dir=state)) == 0


def test_a_killed_backfill_resumes_and_every_event_is_accepted_once_in_order(
        start_service: Callable[..., Any], tmp_path: Path, amqp_url: str) -> None:
    state = tmp_path / "state"
    set_rate(state, "--rate", "100", "--burst", "40")  # slow enough to be killed midway
    url = start_intake(start_service, state)
    accepted = TempQueue(amqp_url, ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    path = tmp_path / "history.jsonl"
    events = write_history(path, cases=100)
    command = backfill_command(url, path, "--batch-size", "20", "--lanes", "2")
    checkpoint = Checkpoint(Path(f"{path}.checkpoint"))
    first_err = tmp_path / "first.err"
    with first_err.open("w") as err:
        first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: checkpoint.path.exists() and checkpoint.load().line >= 60,
                 timeout=60, message=lambda: first_err.read_text())
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = checkpoint.load().line
    assert first.returncode == -signal.SIGKILL
    assert 60 <= killed_at < len(events), "killed midway"

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stderr
    assert "0 refused" in second.stdout
    assert checkpoint.load().line == len(events)
    assert PROGRESS.search(first_err.read_text()), "progress with rate and ETA"
    assert PROGRESS.search(second.stderr)

    ids = {e["id"] for e in events}
    mine = wait_for(lambda: _ours(accepted, ids, len(events)), timeout=30,
                    message="every event on tracking.accepted")
    assert isinstance(mine, list)
    assert sorted(m["id"] for m in mine) == sorted(ids)  # exactly once each
    steps: dict[str, list[int]] = defaultdict(list)
    for message in mine:
        steps[message["data"]["receipt_number"]].append(message["sequence"])
    assert len(steps) == 100
    assert all(seqs == [1, 2, 3, 4] for seqs in steps.values()), "each case in order"
    accepted.close()


def _ours(queue: TempQueue, ids: set[str], expected: int) -> list[dict[str, Any]] | None:
    mine = [json.loads(body) for _m, _p, body in queue.drain()]
    mine = [m for m in mine if m["id"] in ids]
    return mine if len(mine) >= expected else None


def test_another_department_is_served_while_one_backfills_at_its_limit(
        start_service: Callable[..., Any], tmp_path: Path) -> None:
    state = tmp_path / "state"
    set_rate(state, "--rate", "5000", "--burst", "5000", "--until", "+1h")  # the backfill raise
    # a small capacity, so that the backfill alone exhausts it
    url = start_intake(start_service, state, PANTAU_INTAKE_RATE_CAPACITY_PER_SECOND="200",
                       PANTAU_INTAKE_RATE_CAPACITY_BURST="200")
    path = tmp_path / "history.jsonl"
    write_history(path, cases=200)
    command = backfill_command(url, path, "--batch-size", "50", "--lanes", "4")
    backfill = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        checkpoint = Checkpoint(Path(f"{path}.checkpoint"))
        wait_for(lambda: checkpoint.path.exists(), timeout=60, message="the backfill started")
        creds = dev("kota-bandung/disdukcapil")
        other = HttpSender(url, creds.key_id, creds.secret, attempts=1)  # a 429 would raise
        for _ in range(20):
            answer = other.send({
                "specversion": "1.0", "id": str(uuid.uuid4()),
                "source": "/kota-bandung/disdukcapil", "type": "case.submitted",
                "time": datetime.now(UTC).isoformat(),
                "data": {"receipt_number": receipt("kota-bandung/disdukcapil", tag="FAIR"),
                         "service_code": "ktp-el"}})
            assert answer["status"] == "accepted"
        other.close()
        assert backfill.poll() is None, "the other department was served during the backfill"
        out, err = backfill.communicate(timeout=180)
    finally:
        if backfill.poll() is None:
            backfill.kill()
    assert backfill.returncode == 0, err
    throttled = re.search(r"(\d+) answer\(s\) 429", out)
    assert throttled and int(throttled.group(1)) > 0, f"the backfill was at its limit: {out}"
